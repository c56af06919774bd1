# RTMDet-tiny on COCO: mmdetection's own config (from the installed mmdet
# package, `mmdet::`), with the data root, epochs and learning rate that
# rtmdet/train.py sets from the stage's values.
_base_ = "mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py"

default_hooks = dict(checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=1, save_best="coco/bbox_mAP"))
