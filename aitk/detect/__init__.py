"""Object detection: DETR-style box geometry, Hungarian matching and COCO-protocol evaluation."""
