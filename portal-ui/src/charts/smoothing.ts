// The exponential moving average that TensorBoard and W&B smooth a noisy curve with, debiased
// so that its start is not pulled toward zero: each value is weight × the smoothed value
// before it + (1 − weight) × itself, divided by 1 − weight^n after n values.

export function smooth(values: readonly number[], weight: number): number[] {
  if (weight <= 0) return [...values];
  let average = 0;
  return values.map((value, index) => {
    average = average * weight + (1 - weight) * value;
    return average / (1 - weight ** (index + 1));
  });
}
