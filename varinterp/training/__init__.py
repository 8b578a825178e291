"""Training, fine-tuning and evaluation of fold ensembles.

- `varinterp.training.config`: the TOML run config;
- `varinterp.training.loop`: one fold model (Adam, early stopping, resumable checkpoints);
- `varinterp.training.run`: `train_clipnet` (all folds -> a model directory);
- `varinterp.training.finetune`: `finetune_clipnet`;
- `varinterp.training.evaluate`: `evaluate_clipnet` (metrics table and plots);
- `varinterp.training.ensemble`: fold-ensemble predictions;
- `varinterp.training.ddp`: torchrun / DistributedDataParallel helpers;
- `varinterp.training.checkpoint`: model directories (config.json + safetensors).
"""
