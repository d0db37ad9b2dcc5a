#!/usr/bin/python3
"""Export a MONAI bundle's network to ONNX for `volseg models import monai`.

    /usr/bin/python3 models/export/monai_to_onnx.py <bundle> [--patch 96,96,96] [--out <bundle>/models/model.onnx]

Uses the bundle's TorchScript file (models/model.ts, shipped by most Model Zoo bundles; needs only
torch) or, with --weights models/model.pt, the bundle's own network built by MONAI's
ConfigParser from configs/inference.(json|yaml) (needs `monai` installed). The graph gets input
"input" [N, C, D, H, W] and output "output" with dynamic N/D/H/W axes (the names the importer
expects by default), opset 17. Then run `volseg models import monai <bundle>`: it checks the
card against this graph (input/output names, channels, ranks) before installing.
"""
import argparse
import json
import pathlib
import sys

import torch


def load_network(bundle: pathlib.Path, weights: str | None) -> torch.nn.Module:
    if weights is None:
        ts = bundle / "models" / "model.ts"
        if not ts.exists():
            sys.exit(f"{ts}: no TorchScript model; pass --weights models/model.pt (needs monai)")
        return torch.jit.load(str(ts), map_location="cpu").eval()
    from monai.bundle import ConfigParser  # only for --weights

    cfg = next((bundle / "configs" / f"inference.{e}" for e in ("json", "yaml", "yml")
                if (bundle / "configs" / f"inference.{e}").exists()), None)
    if cfg is None:
        sys.exit(f"{bundle}/configs: no inference.json or .yaml")
    parser = ConfigParser()
    parser.read_config(str(cfg))
    parser["bundle_root"] = str(bundle)
    net = parser.get_parsed_content("network_def")
    state = torch.load(str(bundle / weights), map_location="cpu")
    net.load_state_dict(state.get("model", state) if isinstance(state, dict) else state)
    return net.eval()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle", type=pathlib.Path)
    ap.add_argument("--weights")
    ap.add_argument("--patch", help="example input size D,H,W (default: metadata spatial_shape)")
    ap.add_argument("--out", type=pathlib.Path)
    a = ap.parse_args()
    meta = json.loads((a.bundle / "configs" / "metadata.json").read_text())
    image = meta["network_data_format"]["inputs"]["image"]
    patch = [int(x) for x in a.patch.split(",")] if a.patch else list(image["spatial_shape"])
    channels = int(image.get("num_channels", 1))
    net = load_network(a.bundle, a.weights)
    out = a.out or a.bundle / "models" / "model.onnx"
    x = torch.zeros(1, channels, *patch)
    with torch.no_grad():
        y = net(x)
    if isinstance(y, (list, tuple)):
        sys.exit("the network returns several outputs; export the one holding the label logits")
    axes = {0: "N", 2: "D", 3: "H", 4: "W"}
    torch.onnx.export(net, x, str(out), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": axes, "output": axes}, opset_version=17)
    print(f"wrote {out}: input [N, {channels}, D, H, W] → output [N, {y.shape[1]}, D, H, W]")


if __name__ == "__main__":
    main()
