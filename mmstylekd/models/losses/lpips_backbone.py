"""Build the ``lpips`` package's LPIPS network with a clear offline error."""
import os.path as osp

import torch
import torchvision

#: torchvision weights enum of each LPIPS backbone.
_BACKBONE_WEIGHTS = {
    'vgg': 'VGG16_Weights',
    'alex': 'AlexNet_Weights',
    'squeeze': 'SqueezeNet1_1_Weights',
}


def lpips_backbone_file(net: str = 'vgg') -> str:
    """Where torchvision looks for the ImageNet weights LPIPS builds on.

    Returns:
        str: ``$TORCH_HOME/hub/checkpoints/<torchvision's file name>``.
    """
    if net not in _BACKBONE_WEIGHTS:
        raise ValueError(f'LPIPS backbone must be one of '
                         f'{list(_BACKBONE_WEIGHTS)}, got {net!r}.')
    weights = getattr(torchvision.models, _BACKBONE_WEIGHTS[net])
    url = weights.IMAGENET1K_V1.url
    return osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(url))


def build_lpips(net: str = 'vgg'):
    """An ``lpips.LPIPS`` network (eval mode, frozen).

    The linear calibration layers ship inside the ``lpips`` package; the
    backbone is torchvision's ImageNet model, which torchvision loads from its
    hub cache (downloading it when the machine is online).

    Raises:
        FileNotFoundError: the backbone weights are not in the cache and
            cannot be downloaded; the message names the file and the URL.
    """
    import lpips
    path = lpips_backbone_file(net)
    weights = getattr(torchvision.models, _BACKBONE_WEIGHTS[net])
    url = weights.IMAGENET1K_V1.url
    try:
        model = lpips.LPIPS(net=net, verbose=False)
    except Exception as err:  # URLError, HTTPError, ... when offline
        raise FileNotFoundError(
            f'LPIPS ({net}) needs torchvision\'s ImageNet weights at {path} '
            f'and could not load them ({type(err).__name__}: {err}). '
            f'Download {url} and put it there (or set TORCH_HOME).') from err
    return model.eval().requires_grad_(False)
