"""DCP + SVS + StyleKD: StyleGAN2 config-f FFHQ 256 -> 0.7-pruned student.

The recipe of Singular Value Scaling (Kim and Yoo, AAAI 2025, arXiv
2412.17387; official code LAIT-CVLab/Singular-Value-Scaling, script
``scripts/templates/ours/stylegan2-base-finetune-ffhq.sh`` and
``scripts/templates/dcp/stylegan2-prune-ffhq.sh``), on this project's
StyleKD config. What is taken from the official scripts:

- Pruning: DCP-GAN's diversity-aware criterion, ratio 0.7, 5,000 samples in
  batches of 5, 10 directions, perturbation strength 10 (the SVS repository's
  DCP script; our criterion's defaults are DCP-GAN's own 1,000 samples and
  strength 5).
- Refinement: Singular Value Scaling of every synthesis weight and bias,
  **to-RGB included** (``--initialize scaling --initialize-torgb scaling``).
- The discriminator starts from scratch (``--pretrained-discriminator 0``);
  our StyleKD configs start it from the teacher's.
- StyleKD's losses and weights, unchanged: L1 3, LPIPS 3, latent-direction
  KL 30 on the blocks at 16..128 px (``--mimic-layer 2,3,4,5``), directions
  "split", offset weight 5.

What differs: the schedule. The SVS script trains 15,000 kimg on 4 GPUs;
this config keeps StyleKD's 450k iterations x 16 images (7,200 kimg) and
lr 0.002, so that it compares with the StyleKD row of the model zoo. The
SVS paper's own FIDs for this setting: StyleKD 6.70, DCP 6.51, DCP + SVS
5.68 (its table, not comparable with FIDs of other papers).
"""
_base_ = ['./stylekd_stylegan2_c2_ffhq-256x256.py']

model = dict(
    student_init=dict(
        criterion=dict(
            _delete_=True,
            type='DiversityAwareImportance',
            num_samples=5000,
            batch_size=5,
            num_directions=10,
            strength=10.0),
        refine=dict(type='SingularValueScaling', include_torgb=True)),
    init_discriminator_from_teacher=False)
