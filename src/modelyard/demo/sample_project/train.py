"""A small training script: logistic regression by gradient descent, in plain Python.

Run it with Modelyard (`modelyard job submit --script train.py ...`) and its params and metrics
land in the workspace; run it by hand and it still works, logging nothing.
"""

import argparse
import math
import random

from modelyard import Run


def make_data(count, seed):
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        label = rng.random() < 0.5
        center = 1.0 if label else -1.0
        points.append(((rng.gauss(center, 1.0), rng.gauss(center, 1.0)), int(label)))
    return points


def train(points, epochs, learning_rate, run):
    w1 = w2 = bias = 0.0
    for epoch in range(epochs):
        loss = correct = 0.0
        for (x1, x2), label in points:
            p = 1.0 / (1.0 + math.exp(-(w1 * x1 + w2 * x2 + bias)))
            loss -= math.log(max(p if label else 1.0 - p, 1e-12))
            correct += (p >= 0.5) == bool(label)
            w1 -= learning_rate * (p - label) * x1
            w2 -= learning_rate * (p - label) * x2
            bias -= learning_rate * (p - label)
        run.log("loss", loss / len(points), step=epoch)
        run.log("accuracy", correct / len(points), step=epoch)
        mean_loss, accuracy = loss / len(points), correct / len(points)
        print(f"epoch {epoch + 1}/{epochs}: loss={mean_loss:.4f} accuracy={accuracy:.3f}")
    return w1, w2, bias


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()

    run = Run.get_context()
    run.log_params(
        {"epochs": args.epochs, "learning_rate": args.learning_rate, "samples": args.samples}
    )
    weights = train(make_data(args.samples, seed=0), args.epochs, args.learning_rate, run)
    with open("outputs/model.txt", "w") as handle:
        handle.write(" ".join(f"{w:.6f}" for w in weights) + "\n")
    print("saved outputs/model.txt")


if __name__ == "__main__":
    main()
