#!/bin/sh
# The man pages (man/*.1) against the programs: every program built has its page, with the
# sections an operator or citizen looks for; every long option a --help prints (the
# program's, and each command's for onevoice and onevoice-sortition) is documented in its
# page as a .TP item with the same argument (a command's in its .SS of COMMANDS), or at
# least named there; every option a page documents or names exists in some --help; each
# page formats without a warning (mandoc -T lint, groff -ww, man --warnings: those that
# are installed); each program's --version prints "PROGRAM VERSION" (the Makefile's) and
# its --help lists it; `make install DESTDIR=...` puts every page where man finds it and
# `make uninstall` removes it. No server is started.
. tests/e2e/lib/common.sh
T=$E2E_TMP
MAN=man
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)

# opts_of: a --help text on stdin; prints "--name METAVAR" per option line ("-": a flag).
# An option line starts with spaces then "--"; its name and argument end at two spaces.
opts_of() {
    awk '/^ +--[a-z0-9]/ {
        s = $0; sub(/^ +/, "", s)
        i = index(s, "  "); if (i > 0) s = substr(s, 1, i - 1)
        n = split(s, f, " "); print f[1], (n > 1 ? f[2] : "-")
    }' | sort -u
}
# commands_of: a program's --help on stdin; prints its commands (lines "  NAME   text").
commands_of() { awk '/^  [a-z][a-z-]*  +[^ ]/ { print $1 }'; }

# man_items PAGE: "S<TAB>SECTION<TAB>SUBSECTION" for each .SS; "D<TAB>SECTION<TAB>
# SUBSECTION<TAB>--name<TAB>METAVAR" for each .TP item that is an option (.B \-\-name, or
# .BI \-\-name " ARG"); and "M<TAB>SECTION<TAB>SUBSECTION<TAB>--name" for every option named
# anywhere (comments aside; \-\-print\-* is a wildcard, not a name).
man_items() {
    awk '
    /^\.\\"/ { next }
    /^\.SH/ { sec = $0; sub(/^\.SH +/, "", sec); gsub(/"/, "", sec); ss = ""; tp = 0; next }
    /^\.SS/ { ss = $0; sub(/^\.SS +/, "", ss); gsub(/"/, "", ss); tp = 0
               print "S\t" sec "\t" ss; next }
    /^\.TP/ { tp = 1; next }
    {
        line = $0
        if (tp && line ~ /^\.BI? \\-\\-[a-z0-9]/) {
            rest = line; sub(/^\.BI? /, "", rest)
            name = rest; sub(/[ "].*$/, "", name); gsub(/\\-/, "-", name)
            meta = "-"
            if (line ~ /^\.BI /) {
                m = rest; sub(/^[^ ]+ +/, "", m); gsub(/"/, "", m); gsub(/\\-/, "-", m)
                sub(/^ +/, "", m); sub(/ +$/, "", m); meta = m
            }
            print "D\t" sec "\t" ss "\t" name "\t" meta
        }
        tp = 0
        s = line
        while (match(s, /\\-\\-[a-z0-9][a-z0-9\\-]*/)) {
            n = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
            gsub(/\\-/, "-", n)
            if (n !~ /-$/) print "M\t" sec "\t" ss "\t" n
        }
    }' "$1"
}

# defs PAGE SECTION [SUBSECTION]: "--name METAVAR" of the .TP options there
defs() {
    awk -F '\t' -v sec="$2" -v ss="${3-}" \
        '$1 == "D" && $2 == sec && $3 == ss { print $4, $5 }' "$T/$(basename "$1").items" |
        sort -u
}
# named PAGE SECTION SUBSECTION: every option named there (.TP items and text)
named() {
    awk -F '\t' -v sec="$2" -v ss="$3" '$1 == "M" && $2 == sec && $3 == ss { print $4 }' \
        "$T/$(basename "$1").items" | sort -u
}

# same_opts WHAT HELPFILE DEFSFILE: each option of the help is documented with the same
# argument, and each documented option is one of the help's
same_opts() {
    while read -r o m; do
        got=$(awk -v o="$o" '$1 == o { print $2 }' "$3")
        check_eq "$1: $o documented" "${got:+$o $got}" "$o $m"
    done < "$2"
    while read -r o m; do
        grep -q "^$o " "$2" || fail "$1: $o is documented but not in --help"
    done < "$3"
}

# section_of PAGE NAME: the lines of that .SH
section_of() { sed -n "/^\\.SH \"\\{0,1\\}$2/,/^\\.SH /p" "$1"; }
# raw_dashes PAGE: the lines where an option has a - that is not \-
raw_dashes() {
    grep -v '^\.\\"' "$1" | grep -E -e '(^|[^\\])--[a-z]' -e '\\-\\-([a-z0-9]|\\-)*[a-z0-9]-[a-z]'
}

progs=""
for p in "$BUILD"/onevoice*; do
    [ -f "$p" ] && [ -x "$p" ] && progs="$progs $(basename "$p")"
done
check "programs built in $BUILD" test -n "$progs"
: > "$T/all.opts"

for p in $progs; do
    page=$MAN/$p.1
    if [ ! -f "$page" ]; then fail "$p: no man page $page"; continue; fi
    ok
    man_items "$page" > "$T/$p.1.items"
    up=$(echo "$p" | tr 'a-z' 'A-Z')
    th=$(grep '^\.TH ' "$page")
    case $th in
    ".TH $up 1 "*"\"onevoice $VERSION\""*) ok ;;
    *) fail "$p: .TH line '$th' (want $up, section 1, \"onevoice $VERSION\")" ;;
    esac

    "$BUILD/$p" --help > "$T/$p.help" 2>&1
    check_eq "$p --help exit status" "$?" 0
    check_eq "$p --version" "$("$BUILD/$p" --version 2>&1; echo "exit $?")" "$p $VERSION
exit 0"
    { opts_of < "$T/$p.help"; echo "--help -"; } | sort -u > "$T/$p.opts"
    check "$p --help lists --version" grep -q '^--version -$' "$T/$p.opts"
    cat "$T/$p.opts" >> "$T/all.opts"
    commands_of < "$T/$p.help" > "$T/$p.cmds"
    server=0
    grep -q '^--data DIR$' "$T/$p.opts" && grep -q '^--listen ' "$T/$p.opts" && server=1

    sections="NAME SYNOPSIS DESCRIPTION OPTIONS FILES ENVIRONMENT EXIT_STATUS EXAMPLES SEE_ALSO"
    [ $server = 1 ] && sections="$sections SIGNALS"
    [ -s "$T/$p.cmds" ] && sections="$sections COMMANDS"
    for s in $sections; do
        s=$(echo "$s" | tr _ ' ')
        check "$p: section $s" grep -Eq "^\\.SH \"?$s\"?\$" "$page"
    done
    if [ $server = 1 ]; then
        for sig in SIGTERM SIGINT SIGHUP; do
            section_of "$page" SIGNALS | grep -q "$sig" && ok || fail "$p: SIGNALS lacks $sig"
        done
    fi
    for v in ONEVOICE_CA_FILE ONEVOICE_ALLOW_PLAIN_HTTP; do
        section_of "$page" ENVIRONMENT | grep -q "$v" && ok || fail "$p: ENVIRONMENT lacks $v"
    done
    grep -q 'OV_[A-Z]' "$page" && fail "$p: a test hook (OV_*) documented" || ok
    # an option's dashes are \- (a plain - renders as a hyphen, which a shell does not take)
    if raw_dashes "$page" > "$T/$p.raw"; then
        fail "$p: options with a plain dash:"; cat "$T/$p.raw" >&2
    else
        ok
    fi

    # the program's own options: OPTIONS
    defs "$page" OPTIONS > "$T/$p.defs"
    same_opts "$p" "$T/$p.opts" "$T/$p.defs"

    # each command: its .SS in COMMANDS names every option of its --help; its .TP items are
    # the help's, with the same argument. The program's OPTIONS (--wallet, --json) go for all.
    awk -F '\t' '$1 == "S" && $2 == "COMMANDS" { print $3 }' "$T/$p.1.items" | sort -u \
        > "$T/$p.sscmds"
    sort -u "$T/$p.cmds" > "$T/$p.cmds.sorted"
    check_eq "$p: the commands of --help are the .SS of COMMANDS" \
        "$(cat "$T/$p.sscmds")" "$(cat "$T/$p.cmds.sorted")"
    : > "$T/$p.cmdopts"
    while read -r c; do
        "$BUILD/$p" "$c" --help > "$T/$p.$c.help" 2>&1
        check_eq "$p $c --help exit status" "$?" 0
        opts_of < "$T/$p.$c.help" | grep -v '^--help ' > "$T/$p.$c.opts"
        cat "$T/$p.$c.opts" >> "$T/$p.cmdopts"
        named "$page" COMMANDS "$c" > "$T/$p.$c.named"
        while read -r o m; do
            grep -q "^$o " "$T/$p.defs" && continue
            grep -qx -- "$o" "$T/$p.$c.named" || fail "$p $c: $o is not in its .SS"
            ok
        done < "$T/$p.$c.opts"
        defs "$page" COMMANDS "$c" > "$T/$p.$c.defs"
        while read -r o m; do
            got=$(awk -v o="$o" '$1 == o { print $2 }' "$T/$p.$c.opts")
            check_eq "$p $c: $o documented" "$o ${got:-(not in --help)}" "$o $m"
        done < "$T/$p.$c.defs"
    done < "$T/$p.cmds"
    sort -u "$T/$p.cmdopts" -o "$T/$p.cmdopts"
    cat "$T/$p.cmdopts" >> "$T/all.opts"

    # options documented in other sections (onevoice-sortition's LOG OPTIONS): each is some
    # command's, with the argument it has there
    awk -F '\t' '$1 == "D" && $2 != "OPTIONS" && $2 != "COMMANDS" {
        print $2 "\t" $4 "\t" $5 }' "$T/$p.1.items" > "$T/$p.otherdefs"
    while IFS="$(printf '\t')" read -r sec o m; do
        got=$(awk -v o="$o" '$1 == o { print $2 }' "$T/$p.cmdopts" | sort -u | tr '\n' ' ')
        check_eq "$p $sec: $o documented" "$o ${got:-(in no --help) }" "$o $m "
    done < "$T/$p.otherdefs"
done

# every option a page names is an option of some onevoice program
sort -u "$T/all.opts" -o "$T/all.opts"
for p in $progs; do
    [ -f "$MAN/$p.1" ] || continue
    awk -F '\t' '$1 != "S" { print $4 }' "$T/$p.1.items" | sort -u | while read -r o; do
        grep -q "^$o " "$T/all.opts" || echo "$o"
    done > "$T/$p.unknown"
    check_eq "$p: options named in the page that no --help has" \
        "$(tr '\n' ' ' < "$T/$p.unknown")" ""
done
# and every page is a program's
for page in "$MAN"/*.1; do
    n=$(basename "$page" .1)
    case " $progs " in *" $n "*) ok ;; *) fail "$page: no program $n in $BUILD" ;; esac
done

# formatting: every checker that is installed
linted=""
for page in "$MAN"/*.1; do
    if command -v mandoc > /dev/null 2>&1; then
        linted="$linted mandoc"
        out=$(mandoc -T lint -W warning "$page" 2>&1)
        check_eq "mandoc -T lint $page" "$out" ""
    fi
    if command -v groff > /dev/null 2>&1; then
        linted="$linted groff"
        out=$(groff -man -ww -z "$page" 2>&1)
        check_eq "groff -man -ww -z $page" "$out" ""
    fi
    if command -v man > /dev/null 2>&1; then
        linted="$linted man"
        out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" 2>&1 > /dev/null)
        check_eq "man --warnings -l $page" "$out" ""
    fi
done
[ -n "$linted" ] || echo "man.sh: none of mandoc, groff, man is installed: formatting not checked"

# make install / uninstall into a throwaway root, with what is built (-o all: building is
# make test's job, done before this runs)
root=$T/root
if make -s -o all install DESTDIR="$root" PREFIX=/usr BUILD="$BUILD" > "$T/install.log" 2>&1; then
    ok
    for p in $progs; do
        f=$root/usr/share/man/man1/$p.1
        check "installed $f" test -f "$f"
        check_eq "mode of $f" "$(stat -c %a "$f" 2>/dev/null)" 644
        check "installed $p.1 is the source" cmp -s "$f" "$MAN/$p.1"
        if command -v man > /dev/null 2>&1; then
            check_eq "man -M finds $p" "$(man -M "$root/usr/share/man" -w "$p" 2>/dev/null)" "$f"
        fi
    done
else
    fail "make install DESTDIR=$root:"; cat "$T/install.log" >&2
fi
if make -s uninstall DESTDIR="$root" PREFIX=/usr BUILD="$BUILD" > "$T/uninstall.log" 2>&1; then
    check_eq "make uninstall leaves no page" \
        "$(find "$root/usr/share/man" -name 'onevoice*' 2>/dev/null)" ""
else
    fail "make uninstall DESTDIR=$root:"; cat "$T/uninstall.log" >&2
fi

summary
