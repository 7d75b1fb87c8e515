# Sourced (after bench/install.sh) by the scripts that run the service under Valgrind's callgrind.
#
# install_valgrind_tools PURPOSE installs what they need, or stops with one line that says how.
install_valgrind_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v valgrind >/dev/null || missing+=(valgrind)
  command -v clang >/dev/null || missing+=(clang)
  [ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
  command -v python3 >/dev/null || missing+=(python3)
  command -v taskset >/dev/null || missing+=(util-linux)
  install_missing "$1" "${missing[@]}"
}

# publish_with_symbols PROJECT OUT NAME publishes PROJECT to OUT/NAME with its symbol table, so
# that callgrind can name functions. Their DWARF is dropped, as this Valgrind does not read the
# version the linker writes. The native build goes to a folder of its own: in the usual one, the
# next plain publish would find it up to date and ship it unstripped.
publish_with_symbols() {
  local project=$1 out=$2 name=$3
  if ! dotnet publish "$project" -c Release -r linux-x64 -p:StripSymbols=false -p:NativeIntermediateOutputPath="$PWD/$out/$name.native/" \
      -o "$out/$name.full" > "$out/publish.log" 2>&1; then
    cat "$out/publish.log" >&2
    exit 1
  fi
  mkdir -p "$out/$name"
  local binary
  binary=$(basename "$(find "$out/$name.full" -maxdepth 1 -type f -executable | head -1)")
  strip --strip-debug -o "$out/$name/$binary" "$out/$name.full/$binary"
}
