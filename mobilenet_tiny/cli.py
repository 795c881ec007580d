"""The `mobilenet-tiny` command line: each command is a thin call into the library.

Errors the user can fix (UserError, bad options) print one line and exit non-zero, never a traceback.
"""
import json
import os
import sys

import click

from .errors import UserError


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", None) or getattr(
    click.exceptions, "NoArgsIsHelp")


class _Group(click.Group):
    """A click group that turns every user-facing failure into one line on stderr."""

    def main(self, args=None, prog_name=None, **kwargs):
        try:
            rv = super().main(args=args, prog_name=prog_name or "mobilenet-tiny", standalone_mode=False, **kwargs)
        except _NO_ARGS_IS_HELP as e:  # bare group: show help, like click does
            click.echo(e.ctx.get_help() if e.ctx else str(e))
            sys.exit(0)
        except click.UsageError as e:
            _fail(e.format_message(), 2)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except UserError as e:
            _fail(str(e), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as e:
            if os.environ.get("MOBILENET_TINY_DEBUG"):
                raise
            _fail(f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]} "
                  "(set MOBILENET_TINY_DEBUG=1 for the traceback)", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _fail(message: str, code: int):
    click.echo(f"error: {' '.join(str(message).split())}", err=True)
    sys.exit(code)


@click.group(cls=_Group)
@click.version_option(package_name="mobilenet-tiny")
def main():
    """From images to a microcontroller that classifies them: MobileNet, int8, C, firmware."""


# ---------------------------------------------------------------------------------------------- info
@main.command()
@click.option("--arch", default="v1", show_default=True, help="v1 (MobileNetV1) or v2 (MobileNetV2).")
@click.option("--alpha", type=float, default=None, help="Width multiplier [0.1, 1.4] (default 0.25 v1, 0.35 v2).")
@click.option("--input", "input_text", default="96x96x1", show_default=True, help="Input HxWxC, C = 1 or 3.")
@click.option("--classes", type=int, default=2, show_default=True, help="Number of classes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
def info(arch, alpha, input_text, classes, as_json):
    """Per-layer table (params, MACs), depthwise-separable savings and the int8 activation-memory bound.

    Parameter counts are exact and equal keras.applications; the papers round them (4.2 M, 0.5 M, 3.4 M).
    """
    from .models import build_model, parse_input_shape, DEFAULT_ALPHA
    from .models.stats import model_stats
    from .report_text import print_info

    shape = parse_input_shape(input_text)
    model = build_model(arch, shape, alpha, classes)
    stats = model_stats(model, arch=arch, alpha=alpha if alpha is not None else DEFAULT_ALPHA.get(arch),
                        num_classes=classes)
    if as_json:
        click.echo(json.dumps(stats.to_json(), indent=2))
    else:
        print_info(stats)


if __name__ == "__main__":
    main()
