#!/usr/bin/python3
"""Export a trained nnU-Net v2 model to ONNX for `volseg models import nnunet`.

    /usr/bin/python3 models/export/nnunet_to_onnx.py <trainer-folder> --fold 0 [--out model.onnx]

<trainer-folder> is nnU-Net's results folder `Dataset.../<trainer>__<plans>__<configuration>`
(holding plans.json, dataset.json and fold_N/checkpoint_final.pth). Needs `nnunetv2` installed (it
builds the network from the plans exactly as training did). Deep supervision is switched off, so
the graph has one output, at full resolution: input "input" [N, 1, D, H, W] → output "output"
[N, classes, D, H, W], dynamic N/D/H/W, opset 17. Then:

    volseg models import nnunet <trainer-folder> --onnx model.onnx --fold 0

which builds the card from the same plans.json/dataset.json, reads the fold's summary.json Dice
and checks the card against this graph before installing.
"""
import argparse
import pathlib

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=pathlib.Path)
    ap.add_argument("--fold", default="0")
    ap.add_argument("--checkpoint", default="checkpoint_final.pth")
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("model.onnx"))
    a = ap.parse_args()
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor

    p = nnUNetPredictor(device=torch.device("cpu"), use_mirroring=False)
    fold = a.fold if a.fold == "all" else int(a.fold)
    p.initialize_from_trained_model_folder(str(a.folder), use_folds=(fold,),
                                           checkpoint_name=a.checkpoint)
    net = p.network
    net.load_state_dict(p.list_of_parameters[0])
    if hasattr(net, "decoder") and hasattr(net.decoder, "deep_supervision"):
        net.decoder.deep_supervision = False
    net.eval()
    patch = p.configuration_manager.patch_size
    channels = len(p.dataset_json["channel_names"])
    x = torch.zeros(1, channels, *patch)
    axes = {0: "N", 2: "D", 3: "H", 4: "W"}
    torch.onnx.export(net, x, str(a.out), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": axes, "output": axes}, opset_version=17)
    print(f"wrote {a.out} (patch {list(patch)}, {channels} channel(s))")


if __name__ == "__main__":
    main()
