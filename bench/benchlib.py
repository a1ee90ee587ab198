"""What every benchmark here shares: the `--bin` option and its default."""
import os
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BIN = os.path.join(REPO, ".build/release/task")


def add_bin_argument(parser):
    parser.add_argument("--bin", default=DEFAULT_BIN,
                        help="the task binary to measure (default: <repo>/.build/release/task)")


def require_binary(path, tools=()):
    """Exits with how to build it when `path` is not an executable; likewise for missing `tools`."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        sys.exit(f"no task binary at {path}: run `swift build -c release --static-swift-stdlib --product task` "
                 f"in {REPO} (or pass --bin PATH)")
    for tool in tools:
        if shutil.which(tool) is None:
            sys.exit(f"the {tool} command is needed (Debian: apt-get install {tool})")
    return os.path.abspath(path)


def require_sim(task_bin):
    """The release `sprite-sim` beside the task binary; exits with how to build it when missing."""
    sim_bin = os.path.join(os.path.dirname(task_bin), "sprite-sim")
    if not os.access(sim_bin, os.X_OK):
        sys.exit(f"no sprite-sim at {sim_bin}: swift build -c release --static-swift-stdlib --product sprite-sim")
    return sim_bin
