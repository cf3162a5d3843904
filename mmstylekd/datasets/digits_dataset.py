"""scikit-learn's bundled handwritten digits as an MMagic dataset."""
from typing import List, Optional, Sequence

import numpy as np
from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset


@DATASETS.register_module()
class DigitsDataset(BaseDataset):
    """The 1,797 real 8x8 handwritten digits bundled with scikit-learn.

    No download: the images ship inside scikit-learn. Each item is an
    (8, 8, 3) uint8 image under ``gt`` (white ink on black, 0..255) and its
    ``label``; MMagic's usual pipeline (``Resize`` to 32 px, ``Flip``,
    ``PackInputs``) serves it to a GAN like any image folder.

    Args:
        digits (sequence[int], optional): keep only these classes.
        pipeline (list): MMagic transforms.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """
    METAINFO = dict(classes=tuple(str(i) for i in range(10)))

    def __init__(self,
                 digits: Optional[Sequence[int]] = None,
                 pipeline: Sequence = (),
                 **kwargs):
        self.digits = None if digits is None else [int(d) for d in digits]
        super().__init__(pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        from sklearn.datasets import load_digits
        data = load_digits()
        images = np.round(data.images * (255.0 / 16.0)).astype(np.uint8)
        data_list = []
        for idx, (img, label) in enumerate(zip(images, data.target)):
            if self.digits is not None and int(label) not in self.digits:
                continue
            data_list.append(
                dict(
                    gt=np.repeat(img[:, :, None], 3, axis=2),
                    gt_channel_order='rgb',
                    gt_color_type='color',
                    label=int(label),
                    sample_idx=idx))
        return data_list
