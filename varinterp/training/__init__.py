"""The one training engine of varinterp and the one model-directory format; names no family.

- `varinterp.training.engine`: `fit` (the only training loop and the only ``backward()``),
  the `Task` protocol a family implements, `EpochLog`, `evaluate_task`;
- `varinterp.training.settings`: `FitSettings`, the optimiser and learning-rate schedule;
- `varinterp.training.early_stopping`, `varinterp.training.ddp` (torchrun /
  DistributedDataParallel), `varinterp.training.devices` (the one device resolver and
  the precision rule);
- `varinterp.training.registry`: architectures by name (built-ins and plug-ins through
  the ``varinterp.architectures`` entry point), `OutputSpec`;
- `varinterp.training.modeldir`: model directories (config.json + one safetensors file
  per fold or replicate + card), for every family;
- `varinterp.training.inference`: the one ensemble-mean forward loop, `load_model`;
- `varinterp.training.rundir`: the output folder of a fold-ensemble training run.

Model families (their networks, losses, data, task adapters and recipes) live in
`varinterp.models`.
"""
