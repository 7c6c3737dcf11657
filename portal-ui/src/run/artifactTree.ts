// The run's flat artifact listing as a tree of folders, each with its size and file count.
import type { ArtifactEntry } from "./runFiles";

export interface FolderNode {
  name: string;
  path: string; // "" for the run's top folder
  folders: FolderNode[];
  files: ArtifactEntry[];
  size: number;
  fileCount: number;
}

export function artifactTree(entries: ArtifactEntry[]): FolderNode {
  const root = emptyFolder("", "");
  for (const entry of entries) {
    const parts = entry.path.split("/");
    let folder = root;
    for (const part of parts.slice(0, -1)) {
      folder.size += entry.size;
      folder.fileCount += 1;
      folder = childFolder(folder, part);
    }
    folder.size += entry.size;
    folder.fileCount += 1;
    folder.files.push(entry);
  }
  sortTree(root);
  return root;
}

function emptyFolder(name: string, path: string): FolderNode {
  return { name, path, folders: [], files: [], size: 0, fileCount: 0 };
}

function childFolder(folder: FolderNode, name: string): FolderNode {
  let child = folder.folders.find((candidate) => candidate.name === name);
  if (child === undefined) {
    child = emptyFolder(name, folder.path ? `${folder.path}/${name}` : name);
    folder.folders.push(child);
  }
  return child;
}

function sortTree(folder: FolderNode): void {
  folder.folders.sort((a, b) => a.name.localeCompare(b.name));
  folder.files.sort((a, b) => a.path.localeCompare(b.path));
  folder.folders.forEach(sortTree);
}

/** The folders above `path`, which are opened to show it. */
export function foldersAbove(path: string): string[] {
  const parts = path.split("/").slice(0, -1);
  return parts.map((_, index) => parts.slice(0, index + 1).join("/"));
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
