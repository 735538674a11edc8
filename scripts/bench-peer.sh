#!/usr/bin/env bash
# Side by side with the peer tool, osxphotos (issue 7): the same synthetic
# library (Apple's schema, from examples/make_library) read and exported by
# both tools, so the project's claims of speed and memory against the tool
# people use today are measured, not assumed.
#
# For each size (default 10k and 100k assets) it measures wall time and peak
# RSS (GNU time), the median of N runs of:
#   1. listing every asset:  osxphotos query --json --deleted   vs
#                            photos-backup assets --json --all
#   2. a no-op incremental export (nothing changed since the last one):
#                            osxphotos export DEST --update      vs
#                            photos-backup run (local staging only)
#      each destination filled by a first run that is not timed;
#   3. the same after `touch Photos.sqlite` (mtime changed, content the same);
#   4. the same after Photos wrote to its database ("wal"): a process that
#      holds the library open, as Photos does, changes one asset row's
#      bookkeeping (Z_OPT) in the WAL and dies without a checkpoint, so the
#      database is changed but nothing new is to be exported: the common
#      case of a run while Photos is open.
#   5. ("load", not in the default set) what a tool using osxphotos as a
#      library pays before it can look at a photo, `PhotosDB(dbfile=...)`
#      then `db.photos()`, against `photos-backup assets --json --all`:
#      the two alternate, round by round, and every round is printed with
#      the machine's load (issue 15: >= 10x faster, < 100 MB).
# and prints a table with the ratios and the goals of issue 7: listing >= 20x
# faster, no-op >= 100x faster, peak memory <= 1/5 of osxphotos' (issue 15's
# for "load").
# It checks that both did the job (same assets listed; the no-op runs exported
# nothing and left their destinations as they were) and fails loudly if not.
#
# Usage: scripts/bench-peer.sh [SIZES...]        (default: 10000 100000)
# Environment:
#   BENCH_RUNS    repetitions per measure, the median is kept (default 3)
#   BENCH_SLOW    seconds: an osxphotos measure whose first run takes longer
#                 is run once only, and the table says so (default 240)
#   BENCH_DIR     scratch folder (default target/bench-peer/work; libraries
#                 are kept there and reused, destinations are made anew)
#   BENCH_MEASURES which measures, of "list noop touch wal load" (default:
#                 the first four)
#   BENCH_REALISTIC=1 libraries of realistic database size (make_library
#                 --realistic-size: analysis tables and wide rows, about
#                 1 GB at 100k assets); kept apart from the lean ones
#   BENCH_THRESHOLD photos-backup's [threshold].default (default 2000-01-01;
#                 the first of the month is what a real run uses)
#   BENCH_YEARS   the years the assets' dates spread over (make_library
#                 --years, default 2010-2024)
#   BENCH_REUSE=1 keep the destinations a previous run filled (skips the
#                 first runs, 40 minutes of osxphotos at 100k)
# osxphotos (pinned below) is installed from PyPI into target/bench-peer/venv
# once; python3-venv and GNU time come from apt-get when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

OSXPHOTOS_VERSION=0.77.2

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)
runs=${BENCH_RUNS:-3}
slow=${BENCH_SLOW:-240}
measures=" ${BENCH_MEASURES:-list noop touch wal} "
realistic=()
kind=""
if [ "${BENCH_REALISTIC:-}" = 1 ]; then
    realistic=(--realistic-size)
    kind="-realistic"
fi
years=${BENCH_YEARS:-2010-2024}
threshold=${BENCH_THRESHOLD:-2000-01-01}
cache=$PWD/target/bench-peer
work=${BENCH_DIR:-$cache/work}
venv=$cache/venv

die() { echo "bench-peer: FAILED: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }

# --- tools -------------------------------------------------------------------
bench_need_time
installed() { [[ "$("$venv/bin/osxphotos" --version 2>/dev/null)" == *"version $OSXPHOTOS_VERSION"$'\n'* ]]; }
if ! installed; then
    log "installing osxphotos $OSXPHOTOS_VERSION into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        apt-get install -y -qq python3-venv >/dev/null || die "needs python3-venv"
        rm -rf "$venv"
        python3 -m venv "$venv" || die "cannot create a venv in $venv"
    fi
    "$venv/bin/pip" install -q "osxphotos==$OSXPHOTOS_VERSION" || die "pip install osxphotos==$OSXPHOTOS_VERSION"
fi
osx=$venv/bin/osxphotos
py=$venv/bin/python3
installed || die "osxphotos $OSXPHOTOS_VERSION does not run"

log "building photos-backup (release)"
bench_build .
pb=$bin
mkdir -p "$work"

# --- helpers -----------------------------------------------------------------

# osxphotos reads tables of the real Photos schema that the synthetic library
# does not hold (it writes only what photos-backup reads). They are added
# empty, with the columns osxphotos 0.77 selects from them (as found in its
# source and by running it): a library with no shared albums, comments, EXIF
# or aesthetic scores. Idempotent. Not in the generator: these tables are in
# Apple's schema but nothing of the project reads them.
add_osxphotos_tables() { # add_osxphotos_tables DB
    "$py" - "$1" <<'PY'
import sqlite3, sys
SPEC = """
ZSHARE ZUUID ZTITLE ZCLOUDLOCALSTATE ZTRASHEDSTATE ZCREATIONDATE ZSTARTDATE ZENDDATE ZCUSTOMSORTASCENDING ZCUSTOMSORTKEY
ZSHAREPARTICIPANT ZSHARE ZUUID ZHASHEDPERSONID ZNAMECOMPONENTS ZROLE ZACCEPTANCESTATUS ZISCURRENTUSER ZEXITSTATE ZPERMISSION ZPERSON ZEMAILADDRESS ZPARTICIPANTID ZPHONENUMBER ZUSERIDENTIFIER
ZCLOUDMASTER ZCLOUDLOCALSTATE ZCLOUDMASTERGUID
ZCLOUDMASTERMEDIAMETADATA ZCLOUDMASTER ZDATA
ZEXTENDEDATTRIBUTES ZASSET ZAPERTURE ZBITRATE ZCAMERAMAKE ZCAMERAMODEL ZCODEC ZDATECREATED ZDURATION ZEXPOSUREBIAS ZFLASHFIRED ZFOCALLENGTH ZFPS ZISO ZLATITUDE ZLENSMODEL ZLONGITUDE ZMETERINGMODE ZSAMPLERATE ZSHUTTERSPEED ZTIMEZONENAME ZTIMEZONEOFFSET ZTRACKFORMAT ZWHITEBALANCE
ZCOMPUTEDASSETATTRIBUTES ZASSET ZFAILURESCORE ZHARMONIOUSCOLORSCORE ZIMMERSIVENESSSCORE ZINTERESTINGSUBJECTSCORE ZINTRUSIVEOBJECTPRESENCESCORE ZLIVELYCOLORSCORE ZLOWLIGHT ZNOISESCORE ZPLEASANTCAMERATILTSCORE ZPLEASANTCOMPOSITIONSCORE ZPLEASANTLIGHTINGSCORE ZPLEASANTPATTERNSCORE ZPLEASANTPERSPECTIVESCORE ZPLEASANTPOSTPROCESSINGSCORE ZPLEASANTREFLECTIONSSCORE ZPLEASANTSYMMETRYSCORE ZSHARPLYFOCUSEDSUBJECTSCORE ZTASTEFULLYBLURREDSCORE ZWELLCHOSENSUBJECTSCORE ZWELLFRAMEDSUBJECTSCORE ZWELLTIMEDSHOTSCORE
ZCLOUDSHAREDALBUMINVITATIONRECORD ZINVITEEHASHEDPERSONID ZINVITEEFIRSTNAME ZINVITEELASTNAME ZINVITEEFULLNAME
ZCLOUDSHAREDCOMMENT ZCOMMENTEDASSET ZLIKEDASSET ZISLIKE ZCOMMENTDATE ZCOMMENTTEXT ZCOMMENTERHASHEDPERSONID ZISMYCOMMENT
ZMOMENT ZUUID ZTITLE ZSUBTITLE ZSTARTDATE ZENDDATE ZREPRESENTATIVEDATE ZMODIFICATIONDATE ZTIMEZONEOFFSET ZTRASHEDSTATE ZAPPROXIMATELATITUDE ZAPPROXIMATELONGITUDE
ZUSERFEEDBACK ZPERSON ZTYPE
"""
# Looked at first as an immutable file: opening the library to write, even
# for nothing, creates and removes its WAL, and photos-backup's next run would
# rightly see a changed database (osxphotos' own reads leave an empty WAL too).
ro = sqlite3.connect(f"file:{sys.argv[1]}?immutable=1", uri=True)
def columns(con, table):
    return {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
if all(set(line.split()[1:]) <= columns(ro, line.split()[0]) for line in SPEC.strip().splitlines()):
    sys.exit(0)
ro.close()
con = sqlite3.connect(sys.argv[1])
added = []
for line in SPEC.strip().splitlines():
    table, *cols = line.split()
    have = columns(con, table)
    if not have:
        con.execute(f"CREATE TABLE {table} (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER)")
        added.append(table)
    for col in cols:
        if col not in have:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {col}")
con.commit()
con.close()
if added:
    print("added for osxphotos: " + " ".join(added), file=sys.stderr)
PY
}

# timed OUT CMD...: bench_timed, or the end of the script with CMD's stderr.
timed() {
    local out=$1
    bench_timed "$@" || { tail -n 20 "$out.err" >&2; die "failed: ${*:2}"; }
}

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# tree_state DIR [EXCLUDE]: one line per file (path, size, mtime), hashed.
tree_state() {
    find "$1" -type f ! -name "${2:-/}*" -printf '%P %s %T@\n' | sort | md5sum | cut -d' ' -f1
}

results=$work/results.txt
: >"$results"
# record SIZE MEASURE TOOL NOTE "s kb"...: medians of the runs into $results.
record() {
    local size=$1 measure=$2 tool=$3 note=$4 s kb
    shift 4
    s=$(printf '%s\n' "$@" | cut -d' ' -f1 | median)
    kb=$(printf '%s\n' "$@" | cut -d' ' -f2 | median)
    echo "$size $measure $tool $s $kb $# $note" >>"$results"
    log "  $tool $measure: ${s}s ${kb}KB  (runs: $(printf '%s, ' "$@" | sed 's/, $//'))"
}

# --- measures ----------------------------------------------------------------
log "osxphotos $OSXPHOTOS_VERSION, photos-backup $("$pb" --version | cut -d' ' -f2); $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${sizes[@]}"; do
    lib=$work/Peer-$n$kind-$years.photoslibrary
    db=$lib/database/Photos.sqlite
    if [ ! -f "$db" ]; then
        log "== $n assets: generating the library${realistic[*]:+ (realistic size)}"
        "$make" --assets "$n" --seed 7 --years "$years" --out "$lib" "${realistic[@]}" >/dev/null
    fi
    add_osxphotos_tables "$db"
    log "   database $(du -m "$db" | cut -f1) MB + WAL $(du -m "$db-wal" 2>/dev/null | cut -f1) MB"
    dir=$work/run-$n$kind-$years-$threshold
    if [ "${BENCH_REUSE:-}" = 1 ] && [ -f "$dir/filled" ]; then
        log "== $n assets: reusing the destinations filled before in $dir"
    else
        rm -rf "$dir" && mkdir -p "$dir"
    fi

    # 1. Listing
    if [[ $measures == *" list "* ]]; then
    log "== $n assets: listing"
    t=()
    for i in $(seq "$runs"); do
        r=$(timed "$dir/pb.json" "$pb" assets --json --all --library "$lib")
        t+=("$r")
    done
    record "$n" list photos-backup "" "${t[@]}"
    t=()
    note=""
    for i in $(seq "$runs"); do
        r=$(timed "$dir/osx.json" "$osx" query --json --deleted --library "$lib")
        t+=("$r")
        if [ "$i" -lt "$runs" ] && awk -v s="${t[0]% *}" -v l="$slow" 'BEGIN{exit !(s>l)}'; then
            note="1 run (>${slow}s)"
            break
        fi
    done
    record "$n" list osxphotos "$note" "${t[@]}"
    # Same assets: osxphotos lists all but the burst frames that were not
    # picked (it shows them inside their pick's burst_photos), which --all adds.
    "$py" - "$dir/pb.json" "$dir/osx.json" <<'PY' || die "the two listings differ ($n assets)"
import json, sys
pb = {a["uuid"]: a for a in json.load(open(sys.argv[1]))}
osx = {a["uuid"] for a in json.load(open(sys.argv[2]))}
unpicked = {u for u, a in pb.items() if a["burst"] and not a["burst_selected"]}
extra, missing = osx - pb.keys(), pb.keys() - osx - unpicked
print(f"  listed: photos-backup {len(pb)}, osxphotos {len(osx)} + {len(unpicked)} unpicked burst frames", file=sys.stderr)
if extra or missing or osx & unpicked:
    sys.exit(f"osxphotos only: {len(extra)}, photos-backup only: {len(missing)}")
PY
    fi

    # 5. Loading the library: osxphotos' PhotosDB, alternating with ours.
    if [[ $measures == *" load "* ]]; then
    log "== $n assets: PhotosDB() + photos() against assets --json --all, alternating"
    tp=() to=()
    for i in $(seq "$runs"); do
        r=$(timed "$dir/pb-load.json" "$pb" assets --json --all --library "$lib")
        tp+=("$r")
        log "  round $i: photos-backup ${r% *}s $((${r#* } / 1024))MB, load $(cut -d' ' -f1 /proc/loadavg)"
        r=$(timed "$dir/osx-load.txt" "$py" -c 'import sys, osxphotos
db = osxphotos.PhotosDB(dbfile=sys.argv[1])
print(len(db.photos()))' "$lib")
        to+=("$r")
        log "  round $i: osxphotos ${r% *}s $((${r#* } / 1024))MB ($(cat "$dir/osx-load.txt") photos), load $(cut -d' ' -f1 /proc/loadavg)"
    done
    record "$n" load photos-backup "" "${tp[@]}"
    record "$n" load osxphotos "" "${to[@]}"
    fi
    [[ $measures == *" noop "* || $measures == *" touch "* || $measures == *" wal "* ]] || continue

    # 2. No-op incremental export, and 3. the same after touching the database.
    log "== $n assets: incremental export"
    conf=$dir/photos_backup.conf
    bench_config "$conf" "$dir/pb/state" "$dir/pb/staging" "$threshold" "$lib"
    if [ ! -f "$dir/filled" ]; then
        fill=$(timed "$dir/pb-fill.log" "$pb" --config "$conf" run)
        bench_says "$dir/pb-fill.log" "bench: staged [1-9]" || die "the first photos-backup run staged nothing: $(cat "$dir/pb-fill.log"*)"
        log "  photos-backup first run: ${fill% *}s; $(bench_summary "$dir/pb-fill.log" "bench: staged")"
        mkdir -p "$dir/osx-dest"
        fill=$(timed "$dir/osx-fill.log" "$osx" export "$dir/osx-dest" --update --library "$lib")
        bench_says "$dir/osx-fill.log" "exported: [1-9]" || die "the first osxphotos export exported nothing: $(bench_summary "$dir/osx-fill.log" "Processed:")"
        log "  osxphotos first export: ${fill% *}s; $(bench_summary "$dir/osx-fill.log" "Processed:")"
        if ! bench_says "$dir/osx-fill.log" "error: 0"; then
            # A file it could not copy (seen: ENOSPC for a moment on this shared
            # disk) is exported again by the next --update: one more, untimed.
            again=$(timed "$dir/osx-fill2.log" "$osx" export "$dir/osx-dest" --update --library "$lib")
            bench_says "$dir/osx-fill2.log" "error: 0" || die "osxphotos export fails: $(bench_summary "$dir/osx-fill2.log" "Processed:")"
            log "  osxphotos had errors, second export: ${again% *}s; $(bench_summary "$dir/osx-fill2.log" "Processed:")"
        fi
        echo "${fill% *}" >"$dir/filled"
    fi
    fill="$(cat "$dir/filled") 0"
    osx_one=""
    awk -v s="${fill% *}" -v l="$slow" 'BEGIN{exit !(s>l)}' && osx_one=1

    for variant in noop touch wal; do
        [[ $measures == *" $variant "* ]] || continue
        t=()
        before=$(tree_state "$dir/pb/staging")
        for i in $(seq "$runs"); do
            case $variant in touch) touch "$db" ;; wal) bench_photos_writes "$db" "$py" ;; esac
            r=$(timed "$dir/pb-$variant.log" "$pb" --config "$conf" run)
            t+=("$r")
            bench_says "$dir/pb-$variant.log" "bench: (unchanged since the last run|staged 0 files)" ||
                die "photos-backup $variant run did something: $(bench_summary "$dir/pb-$variant.log" "bench:")"
            [ "$(tree_state "$dir/pb/staging")" = "$before" ] || die "photos-backup $variant run changed its staging"
        done
        record "$n" "$variant" photos-backup "" "${t[@]}"
        t=()
        note=""
        # The export database (.osxphotos_export.db) records each run: left out.
        before=$(tree_state "$dir/osx-dest" .osxphotos_export.db)
        for i in $(seq "$runs"); do
            case $variant in touch) touch "$db" ;; wal) bench_photos_writes "$db" "$py" ;; esac
            r=$(timed "$dir/osx-$variant.log" "$osx" export "$dir/osx-dest" --update --library "$lib")
            t+=("$r")
            bench_says "$dir/osx-$variant.log" "exported: 0, updated: 0, .*error: 0" ||
                die "osxphotos $variant export did something: $(bench_summary "$dir/osx-$variant.log" "Processed:")"
            [ "$(tree_state "$dir/osx-dest" .osxphotos_export.db)" = "$before" ] || die "osxphotos $variant export changed its destination"
            if [ "$i" -lt "$runs" ] && { [ -n "$osx_one" ] || awk -v s="${t[0]% *}" -v l="$slow" 'BEGIN{exit !(s>l)}'; }; then
                note="1 run (>${slow}s)"
                break
            fi
        done
        record "$n" "$variant" osxphotos "$note" "${t[@]}"
    done
done

# --- table -------------------------------------------------------------------
echo
echo "osxphotos $OSXPHOTOS_VERSION vs photos-backup $("$pb" --version | cut -d' ' -f2); $(nproc) CPUs; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median of $runs runs (osxphotos: fewer where noted); speed = osxphotos s / photos-backup s; memory = photos-backup MB / osxphotos MB"
echo
printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' assets measure "osxphotos s" "osxphotos MB" \
    "photos-backup s" "photos-backup MB" speed memory "goal" "verdict"
echo "|---|---|---|---|---|---|---|---|---|---|"
misses=0
for n in "${sizes[@]}"; do
    for measure in list noop touch wal load; do
        grep -q "^$n $measure " "$results" || continue
        read -r _ _ _ os okb _ onote <<<"$(grep "^$n $measure osxphotos " "$results")"
        read -r _ _ _ ps pkb _ _ <<<"$(grep "^$n $measure photos-backup " "$results")"
        case $measure in
        list) label="list all assets (JSON)" goal=20 ;;
        noop) label="no-op incremental export" goal=100 ;;
        touch) label="no-op after touch Photos.sqlite" goal=100 ;;
        wal) label="nothing new after Photos wrote to its WAL" goal=100 ;;
        load) label="assets --json --all vs PhotosDB() + photos()" goal=10 ;;
        esac
        [ -z "$onote" ] || label="$label; osxphotos $onote"
        digits=0
        [ "$measure" != load ] || digits=1
        speed=$(awk -v o="$os" -v p="$ps" -v d="$digits" 'BEGIN{printf "%.*f", d, o/p}')
        mem=$(awk -v o="$okb" -v p="$pkb" 'BEGIN{printf "%.3f", p/o}')
        sv=PASS mv=PASS
        awk -v s="$speed" -v g="$goal" 'BEGIN{exit !(s>=g)}' || { sv=MISS; misses=$((misses + 1)); }
        if [ "$measure" = load ]; then
            memgoal="< 100 MB"
            awk -v k="$pkb" 'BEGIN{exit !(k<100*1024)}' || { mv=MISS; misses=$((misses + 1)); }
        else
            memgoal="<= 0.2"
            awk -v m="$mem" 'BEGIN{exit !(m<=0.2)}' || { mv=MISS; misses=$((misses + 1)); }
        fi
        printf '| %s | %s | %s | %.0f | %s | %.1f | %sx | %s | speed >= %sx, memory %s | speed %s, memory %s |\n' \
            "$n" "$label" "$os" "$(awk -v k="$okb" 'BEGIN{print k/1024}')" "$ps" \
            "$(awk -v k="$pkb" 'BEGIN{print k/1024}')" "$speed" "$mem" "$goal" "$memgoal" "$sv" "$mv"
    done
done
echo
echo "$misses goal(s) missed (every figure above is checked: the same assets listed, no no-op run exported anything)"
