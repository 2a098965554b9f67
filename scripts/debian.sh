# Sourced by the setup scripts: installing Debian packages when running as root on
# Debian. The sourcing script defines `say`.
is_debian_root() { [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; }

apt_install() {
  say "installing the Debian package(s) $* (apt-get, as root)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || say "apt-get update failed; trying the install anyway"
  apt-get install -y -qq "$@" >/dev/null
}
