"""Object detection: inference with the offline default detector (CenterNet, COCO-80), DETR-style
box geometry, Hungarian matching and COCO-protocol evaluation."""
