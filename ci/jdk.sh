# Sourced by the launcher and the ci scripts: sets JDK to a JDK >= 22 (JDK 25 preferred) or stops
# with one sentence saying what is missing. java on PATH may be older; it is not used.
find_isthmus_jdk() {
  local candidate version
  for candidate in "${ISTHMUS_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    version=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ "${version%%.*}" -ge 22 ] 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
JDK=$(find_isthmus_jdk) || {
  echo "isthmus: no JDK 22 or newer found (looked at ISTHMUS_JAVA_HOME, JAVA_HOME and /usr/lib/jvm/*); install JDK 25 or set JAVA_HOME to one." >&2
  exit 2
}
export JAVA_HOME=$JDK
# Maven's own libraries call sun.misc.Unsafe, which JDK 24+ warns about on every run.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
