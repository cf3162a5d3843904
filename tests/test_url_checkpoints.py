"""Checkpoints given by URL load as plain data only, on every road.

A real HTTP server on 127.0.0.1 serves a crafted checkpoint whose unpickling
would write a marker file, and real checkpoints. The crafted file must be
refused by each tool and scheme (no marker, a message naming the URL); the
real ones must load through the URL.
"""
import functools
import http.server
import os.path as osp
import threading

import pytest
import torch
from conftest import REPO, check, run_tool
from mmagic.registry import MODELS
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

import mmstylekd  # noqa: F401
from mmstylekd.engine import UnsafeCheckpointError, cached_checkpoint_path
from mmstylekd.engine import checkpoint_url
from mmstylekd.models import read_checkpoint

TINY = 'tests/configs/stylekd_tiny_stylegan2-16x16.py'
TRAIN = 'tests/configs/stylekd_tiny_train-16x16.py'
EVAL = 'tests/configs/stylekd_tiny_eval-16x16.py'
TEACHER = dict(type='StyleGANv2Generator', out_size=16, style_channels=16,
               num_mlps=2)
DIGITS_TEACHER = osp.join(REPO, 'checkpoints',
                          'stylegan2_digits-32x32_teacher_iter6000.pth')


class _RunsCode:
    """Unpickles as ``exec(...)``: writes ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").write("code ran")', ))


def save_crafted(path, marker):
    """A checkpoint that looks ordinary but runs code when unpickled."""
    torch.save(
        dict(state_dict={'generator_ema.module.x': torch.zeros(1)},
             meta=dict(note=_RunsCode(marker))), path)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    """(folder served, base URL, marker folder) of a local HTTP server.

    ``crafted_ROAD.pth`` writes ``ROAD`` into the marker folder when its
    code runs.
    """
    root = tmp_path_factory.mktemp('served')
    markers = tmp_path_factory.mktemp('markers')
    for road in ('prune', 'test', 'consistency', 'inversion', 'teacher_ckpt',
                 'load_from', 'resume', 'inprocess', 'torchvision',
                 'openmmlab', 'mmcls', 'ranks'):
        save_crafted(root / f'crafted_{road}.pth', markers / road)
    torch.manual_seed(0)
    teacher = MODELS.build(TEACHER)
    state = {f'generator_ema.module.{k}': v
             for k, v in teacher.state_dict().items()}
    torch.save(dict(state_dict=state, meta=dict(iter=10)),
               root / 'tiny_teacher.pth')
    (root / 'digits_teacher.pth').write_bytes(
        open(DIGITS_TEACHER, 'rb').read())
    torch.save(dict(state_dict={'backbone.w': torch.ones(2),
                                'head.w': torch.ones(1)}),
               root / 'classifier.pth')
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}', markers
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def clean_hub(tmp_path, monkeypatch):
    """An empty torch hub cache (inherited by the tools) and no proxy."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')
    monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')
    return tmp_path / 'torch_home' / 'hub' / 'checkpoints'


def test_the_crafted_file_does_run_code_when_unpickled(tmp_path):
    """The payload works: what the other tests see refused is real."""
    marker = tmp_path / 'ran'
    save_crafted(tmp_path / 'crafted.pth', marker)
    torch.load(tmp_path / 'crafted.pth', weights_only=False)
    assert marker.read_text() == 'code ran'


def test_url_schemes_use_the_weights_only_loaders():
    for prefix, loader in [('http://', 'load_from_http'),
                           ('https://', 'load_from_http'),
                           ('torchvision://', 'load_from_torchvision'),
                           ('modelzoo://', 'load_from_torchvision'),
                           ('open-mmlab://', 'load_from_openmmlab'),
                           ('openmmlab://', 'load_from_openmmlab'),
                           ('mmcls://', 'load_from_mmcls')]:
        found = CheckpointLoader._get_checkpoint_loader(f'{prefix}x/y.pth')
        assert found is getattr(checkpoint_url, loader), prefix


def test_crafted_url_is_refused_in_process(served, clean_hub):
    _, base, markers = served
    url = f'{base}/crafted_inprocess.pth'
    cached = str(clean_hub / 'crafted_inprocess.pth')
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(url, map_location='cpu')
    message = str(info.value)
    assert url in message and cached in message
    assert 'not plain data' in message and 'refused: exec' in message
    assert 'weights_only=False' not in message
    assert osp.isfile(cached)  # downloaded into the hub cache as before
    # read_checkpoint's wrapping keeps the refusal; the cached file too
    with pytest.raises(RuntimeError, match='not plain data') as info:
        read_checkpoint(url)
    assert url in str(info.value) and cached in str(info.value)
    assert not (markers / 'inprocess').exists()


def test_real_checkpoints_load_through_urls(served, clean_hub, tmp_path):
    _, base, _ = served
    url = f'{base}/digits_teacher.pth'
    loaded = CheckpointLoader.load_checkpoint(url, map_location='cpu')
    local = torch.load(DIGITS_TEACHER, map_location='cpu')
    assert loaded['state_dict'].keys() == local['state_dict'].keys()
    assert all(torch.equal(v, local['state_dict'][k])
               for k, v in loaded['state_dict'].items())
    assert osp.isfile(clean_hub / 'digits_teacher.pth')
    assert cached_checkpoint_path(url) == str(clean_hub /
                                              'digits_teacher.pth')
    # from the cache now, through the project's reader
    assert read_checkpoint(url)['state_dict'].keys() == \
        local['state_dict'].keys()
    # model_dir is honoured
    own_dir = tmp_path / 'own_dir'
    checkpoint_url.load_from_http(f'{base}/tiny_teacher.pth',
                                  model_dir=str(own_dir))
    assert osp.isfile(own_dir / 'tiny_teacher.pth')


def test_named_schemes_resolve_like_mmengine_and_refuse(
        served, monkeypatch):
    """torchvision://, open-mmlab:// and mmcls:// names resolve through
    mmengine's own tables (pointed at the local server here)."""
    _, base, markers = served
    monkeypatch.setattr(
        mmengine_checkpoint, 'get_torchvision_models',
        lambda: dict(evil=f'{base}/crafted_torchvision.pth',
                     good=f'{base}/tiny_teacher.pth'))
    monkeypatch.setattr(
        mmengine_checkpoint, 'get_external_models',
        lambda: dict(evil=f'{base}/crafted_openmmlab.pth',
                     good=f'{base}/tiny_teacher.pth'))
    monkeypatch.setattr(
        mmengine_checkpoint, 'get_mmcls_models',
        lambda: dict(evil=f'{base}/crafted_mmcls.pth',
                     good=f'{base}/classifier.pth'))
    for name, served_as in [('torchvision://evil', 'crafted_torchvision'),
                            ('modelzoo://evil', 'crafted_torchvision'),
                            ('open-mmlab://evil', 'crafted_openmmlab'),
                            ('openmmlab://evil', 'crafted_openmmlab'),
                            ('mmcls://evil', 'crafted_mmcls')]:
        with pytest.raises(UnsafeCheckpointError,
                           match=f'{base}/{served_as}.pth'):
            CheckpointLoader.load_checkpoint(name, map_location='cpu')
    for road in ('torchvision', 'openmmlab', 'mmcls'):
        assert not (markers / road).exists()
    for name in ('torchvision://good', 'openmmlab://good'):
        state = CheckpointLoader.load_checkpoint(name)['state_dict']
        assert 'generator_ema.module.constant_input.input' in state
    backbone = CheckpointLoader.load_checkpoint('mmcls://good')
    assert list(backbone) == ['state_dict']  # mmengine's processing
    assert list(backbone['state_dict']) == ['w']


@pytest.mark.parametrize('rank', [0, 1])
def test_rank_zero_downloads_first_and_no_rank_is_left_waiting(
        served, monkeypatch, rank):
    _, base, markers = served
    calls = []
    monkeypatch.setattr(checkpoint_url, 'get_dist_info', lambda: (rank, 2))
    monkeypatch.setattr(torch.distributed, 'barrier',
                        lambda: calls.append('barrier'))
    real = checkpoint_url._download_and_read

    def download(url, model_dir, map_location, progress):
        calls.append(('download', progress))
        return real(url, model_dir, map_location, progress)

    monkeypatch.setattr(checkpoint_url, '_download_and_read', download)
    assert 'state_dict' in checkpoint_url.load_from_http(
        f'{base}/tiny_teacher.pth', progress=True)
    first = [('download', True), 'barrier'] if rank == 0 else \
        ['barrier', ('download', False)]
    assert calls == first
    calls.clear()
    with pytest.raises(UnsafeCheckpointError):
        checkpoint_url.load_from_http(f'{base}/crafted_ranks.pth')
    assert 'barrier' in calls and not (markers / 'ranks').exists()


def roads(url, out):
    """{road: tool command line} loading the checkpoint at ``url``."""
    return {
        'prune': ['tools/prune.py', TINY, '--teacher-checkpoint', url,
                  '--out', out / 'student.pth'],
        'test': ['tools/test.py', EVAL, url, '--allow-random-teacher',
                 '--work-dir', out],
        'consistency': ['tools/analysis_tools/consistency.py', TINY, url,
                        '--num-samples', '2', '--allow-random-teacher'],
        'inversion': ['tools/analysis_tools/inversion.py', TINY, url,
                      '--digits', '1', '--steps', '1', '--models',
                      'student', '--no-lpips'],
        'teacher_ckpt': ['tools/train.py', TRAIN, '--work-dir', out,
                         '--cfg-options', f'model.teacher_ckpt={url}',
                         'train_cfg.max_iters=1'],
        'load_from': ['tools/train.py', TRAIN, '--work-dir', out,
                      '--cfg-options', f'load_from={url}',
                      'train_cfg.max_iters=1'],
        'resume': ['tools/train.py', TRAIN, '--work-dir', out, '--resume',
                   url, '--cfg-options', 'train_cfg.max_iters=1'],
    }


@pytest.mark.parametrize('road', [
    'prune', 'test', 'consistency', 'inversion', 'teacher_ckpt', 'load_from',
    'resume'
])
def test_crafted_url_is_refused_by_every_tool(served, clean_hub, tmp_path,
                                              road):
    _, base, markers = served
    url = f'{base}/crafted_{road}.pth'
    proc = run_tool(*roads(url, tmp_path)[road])
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text[-3000:]
    assert not (markers / road).exists(), 'the checkpoint ran code'
    assert 'not plain data' in text and url in text, text[-3000:]
    assert str(clean_hub / f'crafted_{road}.pth') in text
    assert 'weights_only=False' not in text
    assert not (tmp_path / 'student.pth').exists()


def test_prune_reads_a_real_teacher_from_a_url(served, clean_hub, tmp_path):
    _, base, _ = served
    url = f'{base}/tiny_teacher.pth'
    out = tmp_path / 'student.pth'
    check(run_tool(*roads(url, tmp_path)['prune']))
    assert osp.isfile(clean_hub / 'tiny_teacher.pth')
    assert torch.load(out)['meta']['teacher_checkpoint'] == url
