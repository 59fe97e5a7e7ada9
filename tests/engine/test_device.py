import pytest

from aitk.engine.device import Device, available_devices, parse_device_spec, resolve_device
from aitk.engine.errors import DeviceError

CPU = Device("cpu", 0, "CPU")
GPU0, GPU1 = Device("cuda", 0, "A"), Device("cuda", 1, "B")
MPS = Device("mps", 0, "Metal")


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("auto", ("auto", None)),
        ("cpu", ("cpu", None)),
        ("CUDA", ("cuda", None)),
        ("cuda:1", ("cuda", 1)),
        ("mps", ("mps", None)),
    ],
)
def test_parse_device_spec(spec, expected):
    assert parse_device_spec(spec) == expected


@pytest.mark.parametrize("spec", ["gpu", "cpu:1", "mps:0", "cuda:x", ""])
def test_bad_spec_names_the_flag(spec):
    with pytest.raises(DeviceError) as err:
        parse_device_spec(spec)
    assert "--device" in err.value.message


def test_auto_prefers_cuda_then_mps_then_cpu():
    assert resolve_device("auto", [CPU, MPS, GPU0]) == GPU0
    assert resolve_device("auto", [CPU, MPS]) == MPS
    assert resolve_device("auto", [CPU]) == CPU


def test_explicit_devices():
    assert resolve_device("cuda:1", [CPU, GPU0, GPU1]) == GPU1
    assert resolve_device("cuda", [CPU, GPU0, GPU1]) == GPU0
    assert resolve_device("cuda:1", [CPU, GPU0, GPU1]).torch == "cuda:1"


def test_absent_device_is_one_line_error_naming_flag():
    with pytest.raises(DeviceError) as err:
        resolve_device("cuda", [CPU])
    message = err.value.message
    assert "--device cuda" in message and "--device cpu" in message and "\n" not in message
    assert err.value.exit_code == 2


def test_precision_follows_device():
    assert GPU0.fp16 and not CPU.fp16 and not MPS.fp16


def test_real_machine_has_cpu():
    devices = available_devices()
    assert devices[0].kind == "cpu"
    assert resolve_device("cpu").kind == "cpu"
