"""A quiet terminal for the demo and the tools.

Third-party deprecation warnings are ignored once, by
``mmstylekd/__init__.py`` (it must run before MMagic's models are
imported). Here, used by the tools rather than copied into them:

* :class:`QuietConsoleRunner`: mmengine's ``Runner`` whose terminal shows
  progress (the logger hook's ``Iter(...)`` lines), warnings, errors and
  the lines logged with :func:`console_log`, while the work dir's log file
  keeps every INFO record (the environment, the full config, the hook
  table). ``cfg.log_level`` cannot do this: mmengine's ``MMLogger`` gives
  its stream and its file handler the same level.
* :func:`prints_hidden`: no ``print()`` output in a block (MMagic's
  generators print their style mode at every ``eval()``/``train()``,
  mmengine's checkpoint loader prints its backend), log records still
  shown.
* :func:`silenced`: no prints, warnings or mmengine records below ERROR
  for a block (building models only to time them, for instance).
"""
import contextlib
import io
import logging
import warnings
from typing import Iterator

from mmengine.logging import MMLogger
from mmengine.runner import Runner
from termcolor import colored

#: mmengine WARNING records that say nothing about a run: its deprecation
#: notices on the file-client arguments of MMagic's configs, and its notes
#: when saving a checkpoint of a GAN (no LR schedulers; a message-hub tensor
#: kept by reference). They stay in the log file, not on a quiet terminal.
MMENGINE_NOISE_LOGS = (
    '"FileClient" will be deprecated',
    '"HardDiskBackend" is the alias of "LocalBackend"',
    'in message_hub cannot be copied, just return its reference',
    '`save_param_scheduler` is True but `self.param_schedulers` is None',
)


class ConsoleFilter(logging.Filter):
    """Which records a quiet terminal shows.

    Shown: WARNING and above (except :data:`MMENGINE_NOISE_LOGS`),
    mmengine's ``LoggerHook`` lines (training progress and validation
    figures) and records logged with ``extra={'console': True}``
    (:func:`console_log`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, 'console', False):
            return True
        if record.levelno >= logging.WARNING:
            message = record.getMessage()
            return not any(notice in message
                           for notice in MMENGINE_NOISE_LOGS)
        # the hook logs its progress lines with runner.logger.info itself
        return record.pathname.replace('\\', '/').endswith(
            'mmengine/hooks/logger_hook.py')


def quiet_console_handlers(logger: MMLogger) -> None:
    """Add :class:`ConsoleFilter` to the logger's terminal handler(s).

    The file handler (a ``StreamHandler`` subclass too) is left alone, so
    the log file keeps everything at the runner's ``log_level``.

    Args:
        logger: an mmengine logger, e.g. ``runner.logger``.
    """
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler) and \
                not isinstance(handler, logging.FileHandler):
            if not any(isinstance(f, ConsoleFilter) for f in handler.filters):
                handler.addFilter(ConsoleFilter())


class QuietConsoleRunner(Runner):
    """mmengine's ``Runner`` with a quiet terminal (see the module).

    Use it as ``QuietConsoleRunner.from_cfg(cfg)`` (what ``tools/train.py
    --quiet`` does). The logger is quietened as soon as the runner builds
    it, before it logs the environment, the config and the hook table; the
    model is built with :func:`prints_hidden` (MMagic's style-mode and
    mmengine's checkpoint-backend prints; logged records still show).
    """

    def build_logger(self, *args, **kwargs) -> MMLogger:
        """``Runner.build_logger`` with :func:`quiet_console_handlers`."""
        logger = super().build_logger(*args, **kwargs)
        quiet_console_handlers(logger)
        return logger

    def build_model(self, *args, **kwargs):
        """``Runner.build_model`` without its ``print()`` output."""
        with prints_hidden():
            return super().build_model(*args, **kwargs)


def console_log(message: str, level: int = logging.INFO) -> None:
    """Log to the current mmengine logger, shown on a quiet terminal too.

    Args:
        message: the line; MMagic's ``print_colored_log`` colour is kept.
        level: logging level.
    """
    MMLogger.get_current_instance().log(
        level, colored(message, 'magenta'), extra=dict(console=True))


@contextlib.contextmanager
def prints_hidden() -> Iterator[None]:
    """No ``print()`` output in the block; logged records still show."""
    # the logger's terminal handler keeps the stdout it was made with: make
    # it now, outside the redirection
    MMLogger.get_current_instance()
    with contextlib.redirect_stdout(io.StringIO()):
        yield


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """No prints, warnings or mmengine log records below ERROR in the block.

    For steps whose chatter is not the point: building a model only to time
    it announces the random teacher, the optimiser groups and MMagic's style
    modes; LPIPS's torchvision call warns about its arguments.
    """
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter('ignore')
            yield
    finally:
        logger.setLevel(level)
