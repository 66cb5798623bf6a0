"""Computes image names with flytekit itself, from the fields the action evaluated (no project code is involved).

Input (stdin, JSON): {"specs": [[[field, value], ...], ...]} in the action's tagged encoding, a nested base_image as
{"imagespec": [[field, value], ...]}. Output (stdout, JSON): {"available": false, "error"} when flytekit cannot be
imported, else {"available": true, "version", "images": [image_name or {"error": ...}, ...]}.
"""

import json
import sys


def main():
    # The request comes as a file named on the command line (a process that exits before reading its stdin would
    # make the caller's write fail), or on stdin.
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            request = json.load(f)
    else:
        request = json.load(sys.stdin)
    try:
        import flytekit
        from flytekit.image_spec import ImageSpec
        from flytekit.constants import CopyFileDetection
    except Exception as e:  # ImportError, or a broken installation
        json.dump({"available": False, "error": f"{type(e).__name__}: {e}"}, sys.stdout)
        return

    def decode(value):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, list):
            return [decode(v) for v in value]
        if "int" in value:
            return int(value["int"])
        if "float" in value:
            return float(value["float"])
        if "tuple" in value:
            return tuple(decode(v) for v in value["tuple"])
        if "dict" in value:
            return {decode(k): decode(v) for k, v in value["dict"]}
        if "enum" in value:
            return CopyFileDetection[value["enum"][1]]
        if "imagespec" in value:
            return ImageSpec(**{k: decode(v) for k, v in value["imagespec"]})
        raise ValueError(f"unknown value {value!r}")

    images = []
    for fields in request["specs"]:
        try:
            images.append(ImageSpec(**{k: decode(v) for k, v in fields}).image_name())
        except Exception as e:
            images.append({"error": f"{type(e).__name__}: {e}"})
    json.dump({"available": True, "version": getattr(flytekit, "__version__", "?"), "images": images}, sys.stdout)


if __name__ == "__main__":
    main()
