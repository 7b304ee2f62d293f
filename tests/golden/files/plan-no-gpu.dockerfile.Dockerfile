# torchenv plan: torch 2.15.0+cpu for linux/x86_64, Python 3.12
FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv
RUN uv venv --python 3.12 /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN uv pip install --python /opt/venv/bin/python torch==2.15.0 --index-url https://download.pytorch.org/whl/cpu
RUN python -c 'import torch; print(torch.__version__, torch.version.cuda)'
# Build and run it (GPUs, shared memory for DataLoader workers, your uid for files in the mounted folder):
#   docker build -t torch-env .
#   docker run --rm -it --ipc=host --ulimit memlock=-1 --ulimit stack=67108864 --user "$(id -u):$(id -g)" -e HOME=/tmp -v "$PWD":/workspace -w /workspace torch-env
#   podman run --rm -it --ipc=host --userns=keep-id -v "$PWD":/workspace:Z -w /workspace torch-env
# compose.yaml (`UID=$(id -u) GID=$(id -g) docker compose run train`):
#   services:
#     train:
#       build: .
#       ipc: host
#       user: "${UID:-1000}:${GID:-1000}"
#       environment: [HOME=/tmp]
#       volumes: [".:/workspace"]
#       working_dir: /workspace
