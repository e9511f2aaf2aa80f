"""Static files: the build sources kept under static/ are never collected or served."""

from __future__ import annotations

from django.contrib.staticfiles.finders import FileSystemFinder

BUILD_ONLY_PATTERNS = ["src", "*.sh", "*.scss", "VERSIONS"]


class PortalFileSystemFinder(FileSystemFinder):
    def list(self, ignore_patterns):  # type: ignore[no-untyped-def]
        return super().list([*(ignore_patterns or []), *BUILD_ONLY_PATTERNS])

    def find(self, path, find_all=False, **kwargs):  # type: ignore[no-untyped-def]
        if path.startswith("src/") or path.endswith((".sh", ".scss")) or path.endswith("VERSIONS"):
            return [] if find_all or kwargs.get("all") else None
        return super().find(path, find_all=find_all, **kwargs)
