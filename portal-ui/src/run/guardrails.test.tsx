import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import { parseGuardrails } from "./guardrails";
import { GuardrailsReport } from "./GuardrailsReport";

// As vision/guardrails.py writes it.
const REPORT = {
  passed: false,
  summary: "guardrails failed: 1 error",
  file_count: 58,
  usable_count: 57,
  bad_file_count: 1,
  class_counts: { tulip: 27, daisy: 30 },
  errors: [
    { kind: "too_few_images", path: null, label: "rose", detail: "class 'rose' has 1 usable image", fix: "add images" },
  ],
  warnings: [
    { kind: "unreadable", path: "tulip/broken.jpg", label: "tulip", detail: "cannot decode tulip/broken.jpg", fix: "delete it" },
  ],
  fingerprint: {},
  limits: { min_images_per_class: 2, min_classes: 2 },
};

describe("parseGuardrails", () => {
  it("reads the report, errors before warnings, classes and limits by name", () => {
    const parsed = parseGuardrails(REPORT);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.value.classCounts).toEqual([["daisy", 30], ["tulip", 27]]);
    expect(parsed.value.limits.map(([name]) => name)).toEqual(["min_classes", "min_images_per_class"]);
    expect(parsed.value.issues.map((issue) => [issue.severity, issue.kind])).toEqual([
      ["error", "too_few_images"],
      ["warning", "unreadable"],
    ]);
  });

  it.each([
    [null, "it is not a JSON object"],
    [[], "it is not a JSON object"],
    [{ summary: "x" }, 'its "passed" is not true or false'],
    [{ passed: "yes" }, 'its "passed" is not true or false'],
    [{ passed: true, errors: "none" }, 'its "errors" is not a list'],
    [{ passed: true, warnings: 3 }, 'its "warnings" is not a list'],
  ])("refuses %j in one line: %s", (data, reason) => {
    expect(parseGuardrails(data)).toEqual({ ok: false, reason });
  });

  it("takes what it can of odd entries: missing counts and non-object findings are skipped", () => {
    const parsed = parseGuardrails({ passed: true, warnings: [7, { kind: "x" }], class_counts: { a: "many", b: 3 } });
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.value.fileCount).toBeNull();
    expect(parsed.value.classCounts).toEqual([["b", 3]]);
    expect(parsed.value.issues).toEqual([
      { severity: "warning", kind: "x", path: null, label: null, detail: "", fix: "" },
    ]);
  });
});

describe("GuardrailsReport", () => {
  it("shows the verdict, the counts per class, the limits and each finding with its fix", () => {
    const parsed = parseGuardrails(REPORT);
    if (!parsed.ok) throw new Error(parsed.reason);
    render(
      <MemoryRouter>
        <GuardrailsReport report={parsed.value} />
      </MemoryRouter>,
    );
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Data guardrails failed");
    const classes = document.querySelector("#guardrails-classes");
    expect(classes?.textContent).toContain("daisy30");
    expect(document.querySelector("#guardrails-limits")?.textContent).toContain("min images per class2");
    const rows = [...document.querySelectorAll("#guardrails-issues tbody tr")].map((row) =>
      [...row.querySelectorAll("td")].map((cell) => cell.textContent),
    );
    expect(rows).toEqual([
      ["error", "too_few_images", "rose", "", "class 'rose' has 1 usable image", "add images"],
      ["warning", "unreadable", "tulip", "tulip/broken.jpg", "cannot decode tulip/broken.jpg", "delete it"],
    ]);
  });

  it("lists the first 200 findings and links the file for the rest", () => {
    const warnings = Array.from({ length: 205 }, (_, index) => ({ kind: "unreadable", detail: `file ${index}` }));
    const parsed = parseGuardrails({ passed: true, warnings });
    if (!parsed.ok) throw new Error(parsed.reason);
    render(
      <MemoryRouter>
        <GuardrailsReport report={parsed.value} />
      </MemoryRouter>,
    );
    expect(document.querySelectorAll("#guardrails-issues tbody tr")).toHaveLength(200);
    expect(screen.getByRole("link", { name: "guardrails.json" }).getAttribute("href")).toBe(
      "/?artifact=outputs%2Fguardrails.json",
    );
  });
});
