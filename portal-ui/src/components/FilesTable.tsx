// A stored version's files (a model version's, a data version's): each a download link through
// the API, with its size and SHA-256.
import { formatSize } from "../run/runFiles";

export interface StoredFile {
  path: string;
  size: number;
  sha256: string;
}

/** Where the browser downloads file `path` of the version at `base` (the cookie rides along). */
export function fileUrl(base: string, path: string): string {
  return `${base}/files/${path.split("/").map(encodeURIComponent).join("/")}`;
}

export function FilesTable({ files, base, id }: { files: StoredFile[]; base: string; id: string }) {
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Files</h2>
      <div className="table-wrap">
        <table className="data-table" id={id}>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col" className="numeric">
                Size
              </th>
              <th scope="col">SHA-256</th>
            </tr>
          </thead>
          <tbody>
            {files.map((file) => (
              <tr key={file.path} data-file={file.path}>
                <td>
                  <a href={fileUrl(base, file.path)} download={file.path.split("/").pop()}>
                    {file.path}
                  </a>
                </td>
                <td className="numeric">{formatSize(file.size)}</td>
                <td>
                  <code className="hash">{file.sha256}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
