# torchenv plan: torch 2.15.0+cu130 for linux/x86_64, Python 3.12, driver >= 580
FROM pytorch/pytorch:2.15.0-cuda13.0-cudnn9-runtime
# The official image ships torch, torchvision and torchaudio for this CUDA build, in its own Python.
RUN python -c 'import torch; print(torch.__version__, torch.version.cuda)'
# pytorch/pytorch:2.15.0-cuda13.0-cudnn9-runtime runs CUDA 13.0: the host needs an NVIDIA driver >= 580 (and the NVIDIA Container Toolkit).
# Build and run it (GPUs, shared memory for DataLoader workers, your uid for files in the mounted folder):
#   docker build -t torch-env .
#   docker run --rm -it --gpus all --ipc=host --ulimit memlock=-1 --ulimit stack=67108864 --user "$(id -u):$(id -g)" -e HOME=/tmp -v "$PWD":/workspace -w /workspace torch-env
#   podman run --rm -it --device nvidia.com/gpu=all --ipc=host --userns=keep-id -v "$PWD":/workspace:Z -w /workspace torch-env
# compose.yaml (`UID=$(id -u) GID=$(id -g) docker compose run train`):
#   services:
#     train:
#       build: .
#       ipc: host
#       user: "${UID:-1000}:${GID:-1000}"
#       environment: [HOME=/tmp]
#       volumes: [".:/workspace"]
#       working_dir: /workspace
#       deploy:
#         resources:
#           reservations:
#             devices: [{driver: nvidia, count: all, capabilities: [gpu]}]
