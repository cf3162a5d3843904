"""A quiet terminal (mmstylekd.engine.console, tools/train.py --quiet):
progress and where results go on the terminal, everything in the log."""
import glob
import logging

from conftest import check, run_tool

from mmstylekd.engine.console import ConsoleFilter

TINY = 'tests/configs/stylekd_tiny_train-16x16.py'


def record(msg, level=logging.INFO, pathname='x.py', **extra):
    rec = logging.LogRecord('mmengine', level, pathname, 1, msg, None, None)
    rec.__dict__.update(extra)
    return rec


def test_console_filter_keeps_progress_warnings_and_marked_lines():
    keep = ConsoleFilter().filter
    assert not keep(record('Config:\n...'))
    assert keep(record('Iter(train) [1/2] ...', pathname='/x/site-packages/'
                       'mmengine/hooks/logger_hook.py'))
    assert keep(record('Working directory: w', console=True))
    assert keep(record('the teacher has random weights', logging.WARNING))
    assert not keep(record('"FileClient" will be deprecated in future.',
                           logging.WARNING))


def test_quiet_training_terminal_and_full_log(tmp_path):
    proc = check(run_tool('tools/train.py', TINY, '--work-dir', tmp_path,
                          '--quiet', '--cfg-options',
                          'train_cfg.max_iters=1'))
    terminal = proc.stdout + proc.stderr
    assert 'Iter(train) [1/1]' in terminal  # progress
    assert f'Working directory: {tmp_path}' in terminal
    assert f'Checkpoint saved under {tmp_path}' in terminal
    assert 'TEACHER HAS RANDOM WEIGHTS' in terminal  # warnings stay
    for noise in ('Config:', 'Hooks will be executed', 'System environment',
                  'Warning', 'save_param_scheduler', 'style mode'):
        assert noise not in terminal, noise
    assert len(terminal.splitlines()) < 12
    log = open(glob.glob(str(tmp_path / '*' / '*.log'))[0]).read()
    for line in ('System environment', 'Config:', 'Hooks will be executed',
                 'Iter(train) [1/1]', 'Working directory'):
        assert line in log, line
