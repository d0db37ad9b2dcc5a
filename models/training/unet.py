"""The brain-extraction network: a compact 3-D U-Net (the seed's architecture).

Per stage two (3x3x3 conv, instance norm, LeakyReLU) blocks; max-pool down; trilinear up-sampling
followed by a 1x1x1 conv (why: onnxruntime's WebGPU provider has no 3-D ConvTranspose, and
Resize + Conv exports to ops it runs); concatenated skips; 1x1x1 head giving logits.

The lateralised model (train.py --task lateral) is LateralNet: this U-Net as a trunk that finds
the two cerebral hemispheres by their place in the array (the one at low i, the one at high i),
plus Chirality, a small CNN that reads the whole view and says whether the brain in it is the way
round it was learnt or mirrored; the output mixes the trunk's two hemispheres by that
probability, so which one is "left" comes from the anatomy, never from the array direction.
"""

import torch
from torch import nn
import torch.nn.functional as F


class Stage(nn.Sequential):
    def __init__(self, cin, cout):
        layers = []
        for c in (cin, cout):
            layers += [
                nn.Conv3d(c, cout, 3, padding=1),
                nn.InstanceNorm3d(cout, affine=True),
                nn.LeakyReLU(0.01),
            ]
        super().__init__(*layers)


class UNet3d(nn.Module):
    """`levels` resolution levels (levels - 1 down-samplings), widths base * 2**level."""

    def __init__(self, base=16, levels=4, classes=2):
        super().__init__()
        widths = [base * 2**i for i in range(levels)]
        self.down = nn.ModuleList()
        cin = 1
        for w in widths:
            self.down.append(Stage(cin, w))
            cin = w
        self.reduce = nn.ModuleList()
        self.up = nn.ModuleList()
        for lo, hi in zip(reversed(widths[:-1]), reversed(widths[1:])):
            self.reduce.append(nn.Conv3d(hi, lo, 1))
            self.up.append(Stage(2 * lo, lo))
        self.head = nn.Conv3d(widths[0], classes, 1)

    @property
    def factor(self):
        """Input sizes must be multiples of this."""
        return 2 ** (len(self.down) - 1)

    def forward(self, x):
        skips = []
        for i, stage in enumerate(self.down):
            if i > 0:
                x = F.max_pool3d(x, 2)
            x = stage(x)
            skips.append(x)
        for reduce, stage, skip in zip(self.reduce, self.up, reversed(skips[:-1])):
            x = F.interpolate(x, scale_factor=2, mode="trilinear", align_corners=False)
            x = stage(torch.cat([reduce(x), skip], 1))
        return self.head(x)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


class Chirality(nn.Module):
    """Logit that the view shows the learnt brain mirrored left-right, shape [N, 1, 1, 1, 1].

    Features: per level one (3x3x3 conv, instance norm, LeakyReLU), max-pool between levels,
    widths base * 2**level up to base * 8, averaged over the whole view. The logit is a linear
    function (no bias) of features(x) - features(x mirrored along i), so the mirrored view gets
    exactly the opposite answer: the part cannot settle on one answer for both, and only what
    differs between the brain and its mirror image (its asymmetry) can move the logit.
    """

    def __init__(self, base=8, levels=5):
        super().__init__()
        layers, cin = [], 1
        for i in range(levels):
            w = base * 2 ** min(i, 3)
            if i > 0:
                layers.append(nn.MaxPool3d(2))
            layers += [nn.Conv3d(cin, w, 3, padding=1), nn.InstanceNorm3d(w, affine=True), nn.LeakyReLU(0.01)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv3d(cin, 1, 1, bias=False)
        self.levels = levels

    def forward(self, x):
        f = self.features(x).mean(dim=(2, 3, 4), keepdim=True)
        fm = self.features(x.flip(2)).mean(dim=(2, 3, 4), keepdim=True)
        return self.head(f - fm)


class LateralNet(nn.Module):
    """Background, left cerebral hemisphere, right cerebral hemisphere, cerebellum and brainstem.

    trunk: UNet3d with 4 classes (background, the hemisphere at low i, the one at high i,
    cerebellum and brainstem), trained with flips that swap the two (array sides). chirality:
    trained on whether a brain-only view was mirrored; here it sees the input times the trunk's
    brain probability. Output: log-probabilities (softmax of them gives
    them back, so the card's kind stays "logits"), left = P(not mirrored) * P(low i) +
    P(mirrored) * P(high i), right the other way round. In RAS order low i is the patient's left,
    so an unmirrored brain keeps the trunk's sides and a mirrored one gets them swapped.
    """

    def __init__(self, base=8, levels=4, chirality_base=8, chirality_levels=5):
        super().__init__()
        self.trunk = UNet3d(base=base, levels=levels, classes=4)
        self.chirality = Chirality(base=chirality_base, levels=chirality_levels)

    @property
    def factor(self):
        return max(self.trunk.factor, 2 ** (self.chirality.levels - 1))

    def mix(self, trunk_logits, mirrored_logit):
        """The output from the trunk's logits and the chirality logit."""
        p = torch.softmax(trunk_logits.float(), 1)
        keep = torch.sigmoid(-mirrored_logit.float())
        low, high = p[:, 1:2], p[:, 2:3]
        left = keep * low + (1 - keep) * high
        right = keep * high + (1 - keep) * low
        return torch.log(torch.cat([p[:, :1], left, right, p[:, 3:]], 1).clamp_min(1e-7))

    def forward(self, x):
        logits = self.trunk(x)
        # The chirality part sees the brain alone (it was trained on brain-only views).
        brain = 1 - torch.softmax(logits.float(), 1)[:, :1]
        return self.mix(logits, self.chirality(x * brain))
