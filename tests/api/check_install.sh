#!/bin/bash
# The install test: installs the build into a temporary prefix, checks what is there (headers,
# both libraries, the CLI, cnnvis.pc, the CMake package, man page, completion) and that the
# shared library exports exactly the CNV_API functions of the installed headers; builds the
# examples with pkg-config alone (and one through find_package(cnnvis) against the static
# library), runs them on the bundled Fashion-MNIST model and SqueezeNet from ../shared, and
# checks their outputs against the CLI's.
# usage: check_install.sh BUILD_DIR SOURCE_DIR PYTHON
set -euo pipefail
build=$1 src=$2 py=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -1)
libdir=${libdir%/}
for f in include/cnnvis/cnnvis.h include/cnnvis/visualize.h include/cnnvis/version.h include/cnnvis/attribution.h \
         include/cnnvis/synthesis.h include/cnnvis/tools.h include/cnnvis/vis_run.h bin/cnnvis \
         share/man/man1/cnnvis.1 share/bash-completion/completions/cnnvis; do
    [[ -f $prefix/$f ]] || fail "not installed: $f"
done
for f in libcnnvis.a libcnnvis.so pkgconfig/cnnvis.pc cmake/cnnvis/cnnvisConfig.cmake; do
    [[ -e $libdir/$f ]] || fail "not installed: $libdir/$f"
done

# Exported symbols = the functions the installed headers mark CNV_API.
sed -n 's/^CNV_API [^(]*[ *]\(cnv_[a-z0-9_]*\)(.*/\1/p' "$prefix"/include/cnnvis/*.h | sort >"$work/declared"
nm -D --defined-only "$libdir/libcnnvis.so" | awk '$2 == "T" {print $3}' | sort >"$work/exported"
diff "$work/declared" "$work/exported" >/dev/null ||
    fail "exports differ from the CNV_API declarations: $(diff "$work/declared" "$work/exported" | tr '\n' ' ')"
[[ $(wc -l <"$work/declared") -ge 40 ]] || fail "only $(wc -l <"$work/declared") CNV_API functions found"
echo "exports: $(wc -l <"$work/exported") functions, all declared CNV_API"

# The man page covers every verb the CLI lists.
for verb in $("$prefix/bin/cnnvis" --help | sed -n 's/^  \([a-z][a-z]*\)  *.*/\1/p'); do
    grep -q "^\.SH \"cnnvis $verb\"" "$prefix/share/man/man1/cnnvis.1" || fail "man page lacks verb $verb"
done

# Bash completion offers the verbs and a verb's options.
complete_words() { # WORDS...: what completing the last word offers
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cnnvis; echo "${COMPREPLY[*]}"' \
        _ "$prefix/share/bash-completion/completions/cnnvis" "$prefix/bin/cnnvis" "$@"
}
[[ $(complete_words fil) == filter ]] || fail "completion of 'fil': $(complete_words fil)"
[[ $(complete_words filter --re) == "--recipe --relu-slope" ]] || fail "completion of 'filter --re': $(complete_words filter --re)"

export PKG_CONFIG_PATH=$libdir/pkgconfig
export LD_LIBRARY_PATH=$libdir
for ex in render_filter classify gradcam; do
    # shellcheck disable=SC2046
    cc -std=c11 -Wall -Wextra -Werror "$src/examples/$ex.c" -o "$work/$ex" $(pkg-config --cflags --libs cnnvis)
done
# find_package(cnnvis) with the static library: a two-line project.
mkdir -p "$work/cmake_user"
cat >"$work/cmake_user/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(user C)
find_package(cnnvis 0.1 REQUIRED)
add_executable(classify_static $src/examples/classify.c)
target_link_libraries(classify_static PRIVATE cnnvis::cnnvis_static)
CMAKE
cmake -S "$work/cmake_user" -B "$work/cmake_user/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake_user/build" >/dev/null
ldd "$work/cmake_user/build/classify_static" | grep -q libcnnvis && fail "classify_static links libcnnvis.so"

# A PNG of h x w that is not constant.
check_png() {
    "$py" - "$@" <<'PY'
import sys, cv2
path, h, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
assert img is not None, path + ": not a readable PNG"
assert img.shape[:2] == (h, w), f"{path}: {img.shape[:2]} not {(h, w)}"
assert img.std() > 1.0, f"{path}: constant (std {img.std():.3f})"
print(f"{path.split('/')[-1]}: {w}x{h}, std {img.std():.1f}")
PY
}
# The CLI's top-1 class of an input.
cli_top1() {
    "$prefix/bin/cnnvis" classify "$1" "$2" --top 1 --json | "$py" -c 'import json,sys; print(json.load(sys.stdin)[0]["top"][0]["class"])'
}

check_model() { # MODEL IMAGE H W
    local model=$1 image=$2 h=$3 w=$4
    "$work/render_filter" "$model" "$work/filter.png" 8 >/dev/null
    check_png "$work/filter.png" "$h" "$w"
    local api cli static
    api=$("$work/classify" "$model" "$image" 3 | awk 'NR == 1 {print $2}')
    static=$("$work/cmake_user/build/classify_static" "$model" "$image" 1 | awk '{print $2}')
    cli=$(cli_top1 "$model" "$image")
    [[ $api == "$cli" && $static == "$cli" ]] || fail "$model: top-1 $api (shared), $static (static), CLI $cli"
    echo "$(basename "$model"): top-1 class $api, as the CLI"
    "$work/gradcam" "$model" "$image" "$work/cam.png" >/dev/null
    check_png "$work/cam.png" "$h" "$w"
}

# The Fashion-MNIST half needs nothing from ../shared: a picture made here.
"$py" -c 'import sys, cv2, numpy as np; y, x = np.mgrid[:64, :48]; cv2.imwrite(sys.argv[1], ((x * 5 + (y - 32) ** 2) % 256).astype(np.uint8))' "$work/pattern.png"
check_model "$src/models/fashion_mnist.onnx" "$work/pattern.png" 28 28
squeeze=$src/../shared/models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx
[[ -f $squeeze ]] || fail "$squeeze is missing (../shared beside the checkout): the SqueezeNet half cannot run"
check_model "$squeeze" "$src/../shared/images/chelsea.png" 227 227
# A library error reaches the caller as a status and a message naming the file.
out=$("$work/classify" "$work/missing.onnx" "$work/pattern.png" 2>&1) && fail "a missing model succeeded"
[[ $out == *missing.onnx* ]] || fail "the error does not name the file: $out"
# The installed Python binding finds the installed library by itself.
found=$(env -u CNNVIS_LIBRARY PYTHONPATH="$prefix/share/cnnvis/python" "$py" -c \
    'import cnnvis; m = cnnvis.load("'"$src"'/models/fashion_mnist.onnx", device="cpu"); print(cnnvis.library_path, m.classify(m.load_input("'"$work"'/pattern.png"), 1)[0][0])')
[[ $found == "$libdir/libcnnvis.so "* ]] || fail "the installed binding used ${found% *}, not $libdir/libcnnvis.so"
[[ ${found#* } == "$(cli_top1 "$src/models/fashion_mnist.onnx" "$work/pattern.png")" ]] ||
    fail "the installed binding's top-1 ${found#* } differs from the CLI's"
echo "installed Python binding: $found"
echo "install test passed"
