"""AutoML for tables (Model Builder's data classification and value prediction): read a CSV,
check it (guardrails), choose the validation, search candidate models with FLAML under a time
budget, and export the best as ONNX with its featurization. Needs the `automl` extra."""
