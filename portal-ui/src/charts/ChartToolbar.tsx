// The one set of controls for every chart of a page: the smoothing weight (a slider, arrow
// keys move it by 0.01) and the x axis (a select). Native inputs, so the keyboard and screen
// readers work them without help.
import { useId } from "react";
import { type ChartView, MAX_SMOOTHING, type XAxisMode, X_AXIS_MODES } from "./chartView";

interface Props {
  view: ChartView;
  onChange: (view: ChartView) => void;
}

export function ChartToolbar({ view, onChange }: Props) {
  const smoothingId = useId();
  const axisId = useId();
  return (
    <div className="chart-toolbar" role="group" aria-label="Chart settings">
      <label htmlFor={smoothingId}>Smoothing</label>
      <input
        id={smoothingId}
        type="range"
        min={0}
        max={MAX_SMOOTHING}
        step={0.01}
        value={view.smoothing}
        aria-valuetext={view.smoothing === 0 ? "off" : view.smoothing.toFixed(2)}
        onChange={(event) => {
          onChange({ ...view, smoothing: Number(event.target.value) });
        }}
      />
      <output htmlFor={smoothingId} className="chart-toolbar-value">
        {view.smoothing === 0 ? "off" : view.smoothing.toFixed(2)}
      </output>
      <label htmlFor={axisId}>X axis</label>
      <select
        id={axisId}
        value={view.x}
        onChange={(event) => {
          onChange({ ...view, x: event.target.value as XAxisMode });
        }}
      >
        {X_AXIS_MODES.map(({ mode, label }) => (
          <option key={mode} value={mode}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}
