import { describe, expect, it } from "vitest";
import { fileUrl } from "./FilesTable";

describe("fileUrl", () => {
  it("escapes each path segment and keeps the slashes between them", () => {
    expect(fileUrl("/api/v1/data/petals/versions/2", "train/a b#1.csv")).toBe(
      "/api/v1/data/petals/versions/2/files/train/a%20b%231.csv",
    );
  });
});
