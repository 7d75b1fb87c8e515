# Sourced by the scripts that run the service under Valgrind: publish_with_symbols PROJECT OUT NAME
# publishes PROJECT to OUT/NAME with its symbol table, so that callgrind can name functions. Their
# DWARF is dropped, as this Valgrind does not read the version the linker writes. The native build
# goes to a folder of its own: in the usual one, the next plain publish would find it up to date
# and ship it unstripped.
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
