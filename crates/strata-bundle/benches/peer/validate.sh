#!/usr/bin/env bash
# The bash+jq peer of `cargo xtask validate`, for the repository benchmark only.
#
# It stands for the seed's `config/validate.sh` (not in this repository's history): a
# validator written the way such scripts are, with jq for JSON and yq (the Python yq, a jq
# wrapper) for YAML, run against the same repository as Strata. It checks much less than
# Strata does; what it checks, per package under config/packages/:
#   - package.json parses (jq) and has `id`, `version` and `environments`;
#   - `id` is the folder's name, `version` is SemVer, each environment id matches
#     ^[a-z0-9][a-z0-9-]{0,62}$;
#   - the package is in config/packages.lock with a version;
#   - every referenced path is relative, has no `..`, and exists; the JSON files parse (jq),
#     the tfvars files are not empty, the inventory folder has a hosts.yaml naming the groups
#     kube_control_plane, kube_node and etcd;
#   - every YAML file (the platform and business files and the inventories) parses: one yq
#     call for all of them at the end, so Python starts once.
# Not checked: schemas, tfvars syntax or its variables, secrets, symlinks, the content digest,
# the definitions and the module selectors.
#
# Usage: validate.sh ROOT. Prints one line per problem and a summary; exits 1 on a problem.
set -u
root=${1:?usage: validate.sh ROOT}
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
envid='^[a-z0-9][a-z0-9-]{0,62}$'
errors=0
packages=0
environments=0
yaml=()
fail() {
  echo "error: $*" >&2
  errors=$((errors + 1))
}

lock="$root/config/packages.lock"
declare -A locked
if ! listing=$(jq -r '.packages | to_entries[] | "\(.key)\t\(.value.version // "")"' "$lock"); then
  fail "$lock: not valid JSON"
fi
while IFS=$'\t' read -r id version; do
  [[ -n $id ]] && locked[$id]=$version
done <<<"${listing:-}"

for dir in "$root"/config/packages/*/; do
  dir=${dir%/}
  name=${dir##*/}
  manifest="$dir/package.json"
  packages=$((packages + 1))
  if [[ ! -f $manifest ]]; then
    fail "$manifest: missing"
    continue
  fi
  # One line for the package, then one per referenced file: environment, kind, path.
  if ! lines=$(jq -r '
      if (.id | type) != "string" or (.version | type) != "string"
         or (.environments | type) != "object" then error("needs id, version and environments")
      else "\(.id)\t\(.version)",
           (.environments | to_entries[] | .key as $e | .value | to_entries[]
            | "\($e)\t\(.key)\t\(.value)")
      end' "$manifest" 2>&1); then
    fail "$manifest: $lines"
    continue
  fi
  json=()
  declare -A seen=()
  first=1
  while IFS=$'\t' read -r a b c; do
    if ((first)); then
      first=0
      [[ $a == "$name" ]] || fail "$manifest: id \`$a\` is not the folder name \`$name\`"
      [[ $b =~ $semver ]] || fail "$manifest: version \`$b\` is not SemVer"
      [[ -n ${locked[$a]:-} ]] || fail "$manifest: \`$a\` is not in $lock"
      continue
    fi
    env=$a kind=$b path=$c
    if [[ -z ${seen[$env]:-} ]]; then
      seen[$env]=1
      environments=$((environments + 1))
      [[ $env =~ $envid ]] || fail "$manifest: environment id \`$env\` is invalid"
    fi
    if [[ $path == /* || $path == *..* ]]; then
      fail "$manifest: $env.$kind: \`$path\` must be relative, inside the package"
      continue
    fi
    file="$dir/$path"
    if [[ ! -e $file ]]; then
      fail "$manifest: $env.$kind: \`$path\` does not exist"
      continue
    fi
    case $path in
      *.json) json+=("$file") ;;
      *.yaml | *.yml) yaml+=("$file") ;;
      *.tfvars) [[ -s $file ]] || fail "$file: empty" ;;
    esac
    if [[ $kind == kubesprayInventory ]]; then
      hosts="$file/hosts.yaml"
      if [[ ! -f $hosts ]]; then
        fail "$file: no hosts.yaml"
        continue
      fi
      content=$(<"$hosts")
      for group in kube_control_plane kube_node etcd; do
        [[ $content == *"$group:"* ]] || fail "$hosts: no group $group"
      done
      yaml+=("$hosts")
      while IFS= read -r -d '' f; do yaml+=("$f"); done \
        < <(find "$file/group_vars" -type f \( -name '*.yml' -o -name '*.yaml' \) -print0 2>/dev/null)
    fi
  done <<<"$lines"
  unset seen
  if ((${#json[@]})) && ! out=$(jq empty "${json[@]}" 2>&1); then
    fail "$name: $out"
  fi
done

if ((${#yaml[@]})) && ! out=$(yq . "${yaml[@]}" 2>&1 >/dev/null); then
  fail "YAML: $out"
fi
echo "peer: $packages packages ($environments environments), ${#yaml[@]} YAML files: $errors errors"
((errors == 0))
