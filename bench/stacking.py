"""Training models of one architecture together: their parameters stacked along a new first axis
(`torch.func.stack_module_state`), one loss mapped over the stack (`torch.func.vmap`), one backward pass and one fused
Adam step for all of them. The bench measures whether this raises throughput over training them one after another;
the package trains models one at a time, so that this is used only where it does."""
import copy
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap


class _Loss(nn.Module):
    "A model whose forward is its `loss`, so that `functional_call` can run the loss."
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, *batch): return self.m.loss(*batch)


class Stack:
    """`models` (one architecture, one set of loss weights) trained as one: `step(batches)` takes each model's batch
    (a tensor or a tuple of `loss` arguments) and returns the models' losses `(K,)`."""
    def __init__(self, models, lr=1e-3, randomness='different'):
        wrapped = [_Loss(m) for m in models]
        self.params, self.buffers = stack_module_state(wrapped)
        base = copy.deepcopy(wrapped[0]).to('meta')
        self.loss = vmap(lambda p, b, *x: functional_call(base, (p, b), x), randomness=randomness)
        self.opt = torch.optim.Adam(list(self.params.values()), lr=lr, fused=True)

    def losses(self, batches):
        batches = [b if isinstance(b, tuple) else (b,) for b in batches]
        return self.loss(self.params, self.buffers, *[torch.stack(t) for t in zip(*batches)])

    def step(self, batches):
        self.opt.zero_grad(set_to_none=True)
        loss, _ = self.losses(batches)
        loss.sum().backward()   # each model's loss depends on its own slice of the stack alone
        self.opt.step()
        return loss.detach()

    def model(self, i, like):
        "Model `i` of the stack, as a copy of `like` holding its parameters."
        m = copy.deepcopy(like)
        m.load_state_dict({k[2:]: v[i].detach() for k, v in {**self.params, **self.buffers}.items()})
        return m
