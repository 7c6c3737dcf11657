// jsdom has no canvas, no matchMedia and no Path2D: uPlot needs all three to draw. These
// stand-ins accept every drawing call and draw nothing; what is drawn is checked in real
// Chromium by tests/server/test_spa_browser.py. The component tests check the rest.
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => {
  cleanup();
});

const noOp = (): void => undefined;

const context2d = new Proxy(
  {},
  {
    get(_target, property) {
      if (property === "measureText") return () => ({ width: 0 });
      if (property === "canvas") return document.createElement("canvas");
      return noOp;
    },
    set: () => true,
  },
);

HTMLCanvasElement.prototype.getContext = function getContext() {
  return context2d as CanvasRenderingContext2D;
} as unknown as typeof HTMLCanvasElement.prototype.getContext;

window.matchMedia = (query: string) =>
  ({
    matches: false,
    media: query,
    onchange: null,
    addEventListener: noOp,
    removeEventListener: noOp,
    dispatchEvent: () => false,
  }) as unknown as MediaQueryList;

class FakePath2D {
  moveTo = noOp;
  lineTo = noOp;
  rect = noOp;
  arc = noOp;
  closePath = noOp;
  bezierCurveTo = noOp;
  quadraticCurveTo = noOp;
  addPath = noOp;
}
(globalThis as unknown as { Path2D: typeof FakePath2D }).Path2D = FakePath2D;
