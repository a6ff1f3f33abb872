"""The ready-made models: parameter counts, output shapes, the registry, and (with torch) the same
architecture built in ``torch.nn``: same state_dict keys and shapes, same outputs for the same weights."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.models import MODELS, LeNet5, SeedCNN, SmallResNet, SmallVGG, get_model

# (model name, in_channels, image_size) -> trainable parameter count, as stated in the docstrings.
PARAM_COUNTS = {
    ("seedcnn", 1, 28): 3_143_110,
    ("seedcnn", 3, 32): 4_106_246,
    ("lenet5", 1, 28): 61_706,
    ("lenet5", 3, 32): 62_006,
    ("vgg", 1, 28): 288_170,
    ("vgg", 3, 32): 288_746,
    ("resnet", 1, 28): 77_754,
    ("resnet", 3, 32): 78_042,
}
SIZES = [(1, 28), (3, 32)]


def n_params(model: tc.nn.Module) -> int:
    return sum(int(p.numel()) for p in model.parameters())


@pytest.mark.parametrize(("name", "channels", "size"), list(PARAM_COUNTS))
def test_parameter_count_matches_docstring(name: str, channels: int, size: int) -> None:
    model = get_model(name, in_channels=channels, num_classes=10, image_size=size)
    expected = PARAM_COUNTS[(name, channels, size)]
    assert n_params(model) == expected
    assert f"{expected:,}" in (type(model).__doc__ or "")


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(("channels", "size"), SIZES)
def test_output_shape_train_and_eval(name: str, channels: int, size: int) -> None:
    tc.manual_seed(0)
    model = get_model(name, in_channels=channels, num_classes=7, image_size=size)
    x = tc.randn(2, channels, size, size)
    out = model(x)
    assert out.shape == (2, 7) and out.dtype == tc.float32
    out.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    model.eval()
    with tc.no_grad():
        assert model(x).shape == (2, 7)


def test_registry() -> None:
    assert set(MODELS) == {"seedcnn", "lenet5", "vgg", "resnet"}
    assert isinstance(get_model("SeedCNN"), SeedCNN)
    assert isinstance(get_model("lenet5", num_classes=3), LeNet5)
    assert isinstance(get_model("vgg"), SmallVGG) and isinstance(get_model("resnet"), SmallResNet)
    with pytest.raises(ValueError, match="seedcnn, lenet5, vgg, resnet"):
        get_model("alexnet")


@pytest.mark.parametrize("name", list(MODELS))
def test_bad_config(name: str) -> None:
    with pytest.raises(ValueError):
        get_model(name, num_classes=0)
    with pytest.raises(TypeError):
        get_model(name, in_channels=1.5)
    with pytest.raises(ValueError):
        get_model(name, image_size=1)
    with pytest.raises(TypeError):
        get_model(name, width=3)  # unknown keyword


def test_resnet_shortcuts() -> None:
    model = SmallResNet()
    assert model.layer1[0].downsample is None  # identity: 16 -> 16 channels, stride 1
    assert model.layer2[0].downsample is not None and model.layer3[0].downsample is not None  # 1x1 projections
    deep = SmallResNet(in_channels=3, image_size=32, blocks=(3, 3, 3))  # the paper's ResNet-20
    assert n_params(deep) == 272_474
    assert deep(tc.randn(1, 3, 32, 32)).shape == (1, 10)


def test_gradcheck_lenet5_float64() -> None:
    """The whole model's backward against finite differences, in float64 on a tiny batch."""
    tc.manual_seed(0)
    model = LeNet5(num_classes=3)
    for p in model.parameters():
        with tc.no_grad():
            p.data = p.data.astype(np.float64)
    x = tc.randn(2, 1, 28, 28, dtype=tc.float64, requires_grad=True)
    assert tc.gradcheck(lambda t: model(t), (x,), fast_mode=True)


# -- the same architectures in torch.nn ----------------------------------------------------------------
torch = pytest.importorskip("torch")
tnn = torch.nn


def torch_seedcnn(c: int, k: int, s: int):
    m = tnn.Module()
    m.conv = tnn.Conv2d(c, 32, 7, padding=3)
    m.relu, m.pool, m.flatten = tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten()
    m.fc1, m.fc2 = tnn.Linear(32 * (s // 2) ** 2, 500), tnn.Linear(500, k)
    m.forward = lambda x: m.fc2(m.relu(m.fc1(m.flatten(m.pool(m.relu(m.conv(x)))))))
    return m


def torch_lenet5(c: int, k: int, s: int):
    m = tnn.Module()
    p = 2 if s == 28 else 0
    m.features = tnn.Sequential(
        tnn.Conv2d(c, 6, 5, padding=p), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2)
    )
    m.flatten = tnn.Flatten()
    m.classifier = tnn.Sequential(tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, k))
    m.forward = lambda x: m.classifier(m.flatten(m.features(x)))
    return m


def torch_vgg(c: int, k: int, s: int):
    layers = []
    for v in (32, 32, "M", 64, 64, "M", 128, 128, "M"):
        if v == "M":
            layers.append(tnn.MaxPool2d(2))
        else:
            layers += [tnn.Conv2d(c, v, 3, padding=1, bias=False), tnn.BatchNorm2d(v), tnn.ReLU()]
            c = v
    m = tnn.Module()
    m.features, m.pool = tnn.Sequential(*layers), tnn.AdaptiveAvgPool2d(1)
    m.classifier = tnn.Sequential(tnn.Flatten(), tnn.Dropout(0.3), tnn.Linear(c, k))
    m.forward = lambda x: m.classifier(m.pool(m.features(x)))
    return m


class TorchBasicBlock(tnn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1, self.relu = tnn.BatchNorm2d(cout), tnn.ReLU()
        self.conv2, self.bn2 = tnn.Conv2d(cout, cout, 3, padding=1, bias=False), tnn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride=stride, bias=False), tnn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + identity)


def torch_resnet(c: int, k: int, s: int):
    m = tnn.Module()
    m.conv1, m.bn1, m.relu = tnn.Conv2d(c, 16, 3, padding=1, bias=False), tnn.BatchNorm2d(16), tnn.ReLU()
    m.layer1 = tnn.Sequential(TorchBasicBlock(16, 16, 1))
    m.layer2 = tnn.Sequential(TorchBasicBlock(16, 32, 2))
    m.layer3 = tnn.Sequential(TorchBasicBlock(32, 64, 2))
    m.avgpool, m.flatten, m.fc = tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(64, k)
    m.forward = lambda x: m.fc(m.flatten(m.avgpool(m.layer3(m.layer2(m.layer1(m.relu(m.bn1(m.conv1(x)))))))))
    return m


TORCH_TWINS = {"seedcnn": torch_seedcnn, "lenet5": torch_lenet5, "vgg": torch_vgg, "resnet": torch_resnet}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(("channels", "size"), SIZES)
def test_same_state_dict_and_outputs_as_torch(name: str, channels: int, size: int) -> None:
    """Same keys, shapes and parameter count as torch.nn; loading torch's weights gives torch's outputs."""
    torch.manual_seed(0)
    twin = TORCH_TWINS[name](channels, 10, size)
    model = get_model(name, in_channels=channels, num_classes=10, image_size=size)
    ours = model.state_dict()
    theirs = twin.state_dict()
    assert list(ours) == list(theirs)
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}
    assert n_params(model) == sum(p.numel() for p in twin.parameters()) == PARAM_COUNTS[(name, channels, size)]

    # Non-trivial running statistics, then eval mode: the forward passes must agree.
    with torch.no_grad():
        for mod in twin.modules():
            if isinstance(mod, tnn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    model.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    model.eval()
    twin.eval()
    x = np.random.default_rng(0).standard_normal((3, channels, size, size)).astype(np.float32)
    with tc.no_grad():
        out = model(tc.tensor(x)).numpy()
    with torch.no_grad():
        expected = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
