# shellcheck shell=bash
# What the bench-*.sh scripts print, for the scripts to source: their name=value lines, the
# progress of a run and the summary table at its end.
#
# Only the name=value lines go to stdout, because other tools parse it. The progress and the
# summary are for people and go to stderr, so a parser never meets them, and with stdout
# redirected to a file the terminal still shows how far the run is.
#
#   step MESSAGE                what runs next, after the seconds since the run began
#   run_step MESSAGE CMD...     step MESSAGE, then CMD: `ours=$(run_step "running ours" ...)`
#   emit TEXT...                name=value lines to stdout, kept for the summary
#   value NAME TEXT             the value of NAME in TEXT's name=value lines
#   ratio NAME OURS OTHER       emits NAME=OURS/OTHER with two decimals
#   summary                     every emitted figure in a table, against its goal in lib/goals,
#                               and the lines saved as Benchmarks/results/NAME.txt, the latest
#                               run of each benchmark, from which `make plots` draws the plots

# A script that another one runs (bench-spawn.sh runs go-anchors.sh) keeps the outer one's
# clock, and leaves the summary to it: the outer script emits the inner one's lines itself.
if [ -z "${BENCH_STARTED_US:-}" ]; then
    # EPOCHREALTIME's separator is the locale's decimal point.
    export BENCH_STARTED_US=${EPOCHREALTIME/[.,]/}
    bench_outermost=1
else
    bench_outermost=0
fi
bench_name=$(basename "$0" .sh)
bench_goals="$(dirname "${BASH_SOURCE[0]}")/goals"
bench_results="$(dirname "${BASH_SOURCE[0]}")/../../results"
bench_emitted=""

step() {
    local tenths=$(((${EPOCHREALTIME/[.,]/} - BENCH_STARTED_US) / 100000))
    printf '[%5d.%ds] %s: %s\n' $((tenths / 10)) $((tenths % 10)) "$bench_name" "$1" >&2
}

# CMD runs last, so its status is the function's, and `var=$(run_step ...)` fails under
# `set -e` when CMD fails, as `var=$(CMD)` does.
run_step() {
    step "$1"
    "${@:2}"
}

emit() {
    local text
    for text in "$@"; do
        printf '%s\n' "$text"
        bench_emitted+="$text"$'\n'
    done
}

value() {
    sed -n "s/^$1=//p" <<<"$2"
}

# The line goes through a variable, not `emit "$(awk ...)"`, so that an awk error still ends
# the script under `set -e`.
ratio() {
    local line
    line=$(awk -v name="$1" -v ours="$2" -v other="$3" 'BEGIN { printf "%s=%.2f\n", name, ours / other }')
    emit "$line"
}

# One row per name=value pair (a line may hold several), in the order emitted. A figure with a
# goal is marked met or MISSED; the others leave the goal and status columns empty.
summary() {
    [ "$bench_outermost" = 1 ] || return 0
    step "done"
    awk '
        FNR == NR {
            if ($0 !~ /^[[:space:]]*(#|$)/) { comparison[$1] = $2; bound[$1] = $3 }
            next
        }
        {
            for (i = 1; i <= NF; i++) {
                split_at = index($i, "=")
                if (split_at < 2) continue
                rows++
                name[rows] = substr($i, 1, split_at - 1)
                value[rows] = substr($i, split_at + 1)
                if (length(name[rows]) > width) width = length(name[rows])
            }
        }
        END {
            format = "%-" width "s  %10s"
            printf format "  %-8s  %s\n", "figure", "value", "goal", "status"
            for (row = 1; row <= rows; row++) {
                figure = name[row]
                printf format, figure, value[row]
                if (figure in comparison) {
                    if (comparison[figure] == "<=") met = value[row] + 0 <= bound[figure] + 0
                    else met = value[row] + 0 >= bound[figure] + 0
                    printf "  %-8s  %s", comparison[figure] " " bound[figure], met ? "met" : "MISSED"
                }
                printf "\n"
            }
        }
    ' "$bench_goals" - <<<"$bench_emitted" >&2
    mkdir -p "$bench_results"
    printf '%s' "$bench_emitted" >"$bench_results/$bench_name.txt"
}
