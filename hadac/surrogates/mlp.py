"""`mlp(hidden = [H1, H2])`: a ReLU network, one binary per neuron whose sign is left open.

The estimator standardises its inputs and its output itself, so that the saved model takes
raw params and predicts in the target's unit like every other kind's. The encoding folds
those scalers into the first and last layers and bounds every neuron's pre-activation
[L, U] over the params' box: by interval arithmetic, then by LPs (`relu_bounds`). A neuron
with U <= 0 is always off and one with L >= 0 always on: neither needs a binary. The others
get the standard formulation with their own L and U, never a global big-M.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hadac.domains import ParamDomain
from hadac.surrogates import relu_bounds
from hadac.surrogates.base import Arg, Kind

if TYPE_CHECKING:
    from sklearn.compose import TransformedTargetRegressor

    from hadac.surrogates.splits import Splits


def _unpack(estimator: TransformedTargetRegressor) -> tuple:
    """(input mean, input scale, weights, biases, output mean, output scale)."""
    pipeline = estimator.regressor_
    scaler, network = pipeline.named_steps["scale"], pipeline.named_steps["mlp"]
    target = estimator.transformer_
    return (
        scaler.mean_,
        scaler.scale_,
        network.coefs_,
        network.intercepts_,
        float(target.mean_[0]),
        float(target.scale_[0]),
    )


def folded(x_mean, x_scale, weights, biases, y_mean: float, y_scale: float) -> tuple[list, list]:
    """The layers' weights and biases with the scalers folded in: x' = (x - mean) / scale
    into the first layer, y = y' * scale + mean into the last."""
    weights = [np.array(w, dtype=float) for w in weights]
    biases = [np.array(b, dtype=float) for b in biases]
    first = weights[0]
    weights[0] = first / x_scale[:, None]
    biases[0] = biases[0] - (x_mean / x_scale) @ first
    weights[-1] = weights[-1] * y_scale
    biases[-1] = biases[-1] * y_scale + y_mean
    return weights, biases


def _repeatable(estimator: TransformedTargetRegressor) -> bool:
    """Whether the fitted network is the one `MLP.predict` repeats: two scaling steps around
    a ReLU network with one output, and nothing else in the pipeline."""
    pipeline = estimator.regressor_
    scaler, network = pipeline.named_steps.get("scale"), pipeline.named_steps.get("mlp")
    target = estimator.transformer_
    return (
        [name for name, _ in pipeline.steps] == ["scale", "mlp"]
        and all(
            type(s).__name__ == "StandardScaler" and s.with_mean and s.with_std
            for s in (scaler, target)
        )
        and network.activation == "relu"
        and network.out_activation_ == "identity"
        and network.n_outputs_ == 1
        and estimator.func is None
        and estimator.inverse_func is None
    )


class MLP(Kind):
    name = "mlp"
    args = {"hidden": Arg("int list", (16,), maximum=4096)}
    structure = "relu"
    template = "mlp.mzn.j2"
    estimator_type = "TransformedTargetRegressor"
    example = {"hidden": (16, 8)}

    def owns(self, estimator: Any) -> bool:
        # TransformedTargetRegressor can wrap any regressor: look for the network inside.
        regressor = getattr(estimator, "regressor", None)
        steps = getattr(regressor, "named_steps", {})
        return (
            type(estimator).__name__ == self.estimator_type
            and type(regressor).__name__ == "Pipeline"
            and type(steps.get("mlp")).__name__ == "MLPRegressor"
        )

    def estimator(self, args: dict[str, Any]) -> TransformedTargetRegressor:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        network = MLPRegressor(
            hidden_layer_sizes=tuple(args["hidden"]),
            activation="relu",
            max_iter=2000,
            random_state=0,
        )
        return TransformedTargetRegressor(
            regressor=Pipeline([("scale", StandardScaler()), ("mlp", network)]),
            transformer=StandardScaler(),
        )

    def arrays(self, estimator: Any) -> dict[str, np.ndarray] | None:
        if not self.owns(estimator) or not _repeatable(estimator):
            return None
        x_mean, x_scale, weights, biases, y_mean, y_scale = _unpack(estimator)
        out = {
            "x_mean": np.array(x_mean, dtype=np.float64),
            "x_scale": np.array(x_scale, dtype=np.float64),
            "y_mean": np.array(estimator.transformer_.mean_, dtype=np.float64),
            "y_scale": np.array(estimator.transformer_.scale_, dtype=np.float64),
        }
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            out[f"W{i}"] = np.array(w, dtype=np.float64)
            out[f"B{i}"] = np.array(b, dtype=np.float64)
        return out

    def predict(self, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        # StandardScaler.transform, MLPRegressor._forward_pass_fast, then the target
        # scaler's inverse_transform, step by step as scikit-learn runs them.
        z = np.array(x, dtype=np.float64)
        z -= arrays["x_mean"]
        z /= arrays["x_scale"]
        layers = sum(1 for name in arrays if name.startswith("W"))
        for i in range(layers):
            z = z @ arrays[f"W{i}"]
            z += arrays[f"B{i}"]
            if i != layers - 1:
                np.maximum(z, 0, out=z)
        y = z.ravel().reshape(-1, 1).copy()
        y *= arrays["y_scale"]
        y += arrays["y_mean"]
        return y.squeeze(axis=1)

    def encode_mip(
        self,
        estimator: TransformedTargetRegressor,
        params: tuple[ParamDomain, ...],
        structure: str,
        shared: Splits,
    ) -> dict:
        weights, biases = folded(*_unpack(estimator))

        low = np.array([p.low for p in params], dtype=float)
        high = np.array([p.high for p in params], dtype=float)
        interval = relu_bounds.interval_bounds(weights, biases, low, high)
        tight = relu_bounds.tightened_bounds(weights, biases, low, high)
        layers = []
        for index, (w, b, bounds) in enumerate(zip(weights, biases, tight, strict=True)):
            layers.append(
                {
                    "size": w.shape[1],
                    "inputs": w.shape[0],
                    "W": w.T.tolist(),
                    "B": b.tolist(),
                    "L": bounds.low.tolist(),
                    "U": bounds.high.tolist(),
                    "pad": bounds.pad.tolist(),
                    "last": index == len(weights) - 1,
                }
            )
        hidden = tight[:-1]
        binaries = sum(bounds.unstable() for bounds in hidden)
        stable = sum(len(bounds.low) for bounds in hidden) - binaries
        output = layers[-1]
        return {
            "template": self.template,
            "layers": layers,
            "data": {},
            "bounds": (float(output["L"][0]), float(output["U"][0])),
            "size": {
                "binaries": binaries,
                "constraints": 3 * binaries + stable + 1,
                "binaries_by_intervals": sum(bounds.unstable() for bounds in interval[:-1]),
            },
        }
