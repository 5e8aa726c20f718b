#!/usr/bin/python3
"""PyTorch's side of the README's first command: LeNet-5 (shared/peers/torch_models.py) on
Fashion-MNIST with the same recipe as `./isthmus train lenet5`: SGD lr 0.01, momentum 0.9,
batch 64, 10 epochs, pixels scaled to [0, 1], shuffled every epoch, cross-entropy.

  /usr/bin/python3 bench/peers/train_lenet5_fashion_mnist.py [--seed 0] [--threads 2] [--epochs 10]
      [--peers ../shared/peers] [--data /usr/share/datasets/fashion-mnist]

Prints one line per epoch and, last, a JSON object with test_accuracy and seconds.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--peers", default=os.path.join(HERE, "../../../shared/peers"))
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    sys.path.insert(0, os.path.abspath(a.peers))
    from torch_models import LeNet5

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x_train = torch.from_numpy(idx(os.path.join(a.data, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255).unsqueeze(1)
    y_train = torch.from_numpy(idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    x_test = torch.from_numpy(idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255).unsqueeze(1)
    y_test = torch.from_numpy(idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    model = LeNet5()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for i in range(0, len(order), 64):
            batch = order[i:i + 64]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            correct = sum((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item()
                          for i in range(0, len(x_test), 1000))
        print(f"epoch {epoch + 1}: train loss {total / len(x_train):.4f} test acc {100 * correct / len(x_test):.2f}%", flush=True)
    seconds = time.perf_counter() - start
    print(json.dumps({"peer": "pytorch-" + torch.__version__, "test_accuracy": correct / len(x_test), "seconds": seconds,
                      "threads": a.threads, "seed": a.seed}))


if __name__ == "__main__":
    main()
