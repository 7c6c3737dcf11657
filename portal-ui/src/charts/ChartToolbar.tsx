// The one set of controls for every chart of a page: the smoothing weight (a slider, arrow
// keys move it by 0.01) and the x axis (a select). Native inputs, so the keyboard and screen
// readers work them without help. While the slider is in use it shows its own value: the URL,
// where the view lives, catches up a render later, and a controlled input set back to the
// URL's older value would lose keys pressed (or pointer moves made) in between.
import { useId, useState } from "react";
import { type ChartView, MAX_SMOOTHING, type XAxisMode, X_AXIS_MODES } from "./chartView";

interface Props {
  view: ChartView;
  onChange: (view: ChartView) => void;
}

export function ChartToolbar({ view, onChange }: Props) {
  const smoothingId = useId();
  const axisId = useId();
  const [draft, setDraft] = useState<number | null>(null);
  const smoothing = draft ?? view.smoothing;
  const shown = smoothing === 0 ? "off" : smoothing.toFixed(2);
  return (
    <div className="chart-toolbar" role="group" aria-label="Chart settings">
      <label htmlFor={smoothingId}>Smoothing</label>
      <input
        id={smoothingId}
        type="range"
        min={0}
        max={MAX_SMOOTHING}
        step={0.01}
        value={smoothing}
        aria-valuetext={shown}
        onChange={(event) => {
          const value = Number(event.target.value);
          setDraft(value);
          onChange({ ...view, smoothing: value });
        }}
        onBlur={() => {
          setDraft(null);
        }}
      />
      <output htmlFor={smoothingId} className="chart-toolbar-value">
        {shown}
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
