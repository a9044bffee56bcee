// The SSH host keys of the big public forges, shipped so that cloning from them needs no trust-on-first-use step.
// Each entry cites the forge's own page; a key rotation there means updating this file (and the pinned rows:
// lib/engine/build/git-access.ts re-checks shipped pins against this list before each clone).
//
// - github.com: full keys and fingerprints from "GitHub's SSH key fingerprints",
//   https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/githubs-ssh-key-fingerprints
//   (the fingerprints below were recomputed from the keys with ssh-keygen -lf and match the page).
// - gitlab.com: fingerprints from GitLab's "SSH host keys fingerprints",
//   https://docs.gitlab.com/ee/user/gitlab_com/index.html#ssh-host-keys-fingerprints ; the keys are those of its
//   known_hosts entries, recomputed with ssh-keygen -lf to the fingerprints listed there.
// - codeberg.org: fingerprints only, from https://docs.codeberg.org/security/ssh-fingerprint/ (Codeberg publishes no
//   full keys): the worker scans the presented keys and keeps only those whose fingerprint is listed here.

export type ShippedHostKey = {
  keyType: string;
  /** base64 key blob, or null where the forge publishes only the fingerprint. */
  publicKey: string | null;
  fingerprint: string;
};

export const SHIPPED_HOST_KEYS: Readonly<Record<string, readonly ShippedHostKey[]>> = {
  "github.com": [
    {
      keyType: "ssh-ed25519",
      publicKey: "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
      fingerprint: "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
    },
    {
      keyType: "ecdsa-sha2-nistp256",
      publicKey:
        "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
      fingerprint: "SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM",
    },
    {
      keyType: "ssh-rsa",
      publicKey:
        "AAAAB3NzaC1yc2EAAAADAQABAAABgQCj7ndNxQowgcQnjshcLrqPEiiphnt+VTTvDP6mHBL9j1aNUkY4Ue1gvwnGLVlOhGeYrnZaMgRK6+PKCUXaDbC7qtbW8gIkhL7aGCsOr/C56SJMy/BCZfxd1nWzAOxSDPgVsmerOBYfNqltV9/hWCqBywINIR+5dIg6JTJ72pcEpEjcYgXkE2YEFXV1JHnsKgbLWNlhScqb2UmyRkQyytRLtL+38TGxkxCflmO+5Z8CSSNY7GidjMIZ7Q4zMjA2n1nGrlTDkzwDCsw+wqFPGQA179cnfGWOWRVruj16z6XyvxvjJwbz0wQZ75XK5tKSb7FNyeIEs4TT4jk+S4dhPeAUC5y+bDYirYgM4GC7uEnztnZyaVWQ7B381AK4Qdrwt51ZqExKbQpTUNn+EjqoTwvqNj4kqx5QUCI0ThS/YkOxJCXmPUWZbhjpCg56i+2aB6CmK2JGhn57K5mj0MNdBXA4/WnwH6XoPWJzK5Nyu2zB3nAZp+S5hpQs+p1vN1/wsjk=",
      fingerprint: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    },
  ],
  "gitlab.com": [
    {
      keyType: "ssh-ed25519",
      publicKey: "AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf",
      fingerprint: "SHA256:eUXGGm1YGsMAS7vkcx6JOJdOGHPem5gQp4taiCfCLB8",
    },
    {
      keyType: "ecdsa-sha2-nistp256",
      publicKey:
        "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFSMqzJeV9rUzU4kWitGjeR4PWSa29SPqJ1fVkhtj3Hw9xjLVXVYrU9QlYWrOLXBpQ6KWjbjTDTdDkoohFzgbEY=",
      fingerprint: "SHA256:HbW3g8zUjNSksFbqTiUWPWg2Bq1x8xdGUrliXFzSnUw",
    },
    {
      keyType: "ssh-rsa",
      publicKey:
        "AAAAB3NzaC1yc2EAAAADAQABAAABAQCsj2bNKTBSpIYDEGk9KxsGh3mySTRgMtXL583qmBpzeQ+jqCMRgBqB98u3z++J1sKlXHWfM9dyhSevkMwSbhoR8XIq/U0tCNyokEi/ueaBMCvbcTHhO7FcwzY92WK4Yt0aGROY5qX2UKSeOvuP4D6TPqKF1onrSzH9bx9XUf2lEdWT/ia1NEKjunUqu1xOB/StKDHMoX4/OKyIzuS0q/T1zOATthvasJFoPrAjkohTyaDUz2LN5JoH839hViyEG82yB+MjcFV5MU3N1l1QL3cVUCh93xSaua1N85qivl+siMkPGbO5xR/En4iEY6K2XPASUEMaieWVNTRCtJ4S8H+9",
      fingerprint: "SHA256:ROQFvPThGrW4RuWLoL9tq9I9zJ42fK4XywyRtbOz/EQ",
    },
  ],
  "codeberg.org": [
    { keyType: "ssh-ed25519", publicKey: null, fingerprint: "SHA256:mIlxA9k46MmM6qdJOdMnAQpzGxF4WIVVL+fj+wZbw0g" },
    {
      keyType: "ecdsa-sha2-nistp256",
      publicKey: null,
      fingerprint: "SHA256:T9FYDEHELhVkulEKKwge5aVhVTbqCW0MIRwAfpARs/E",
    },
    { keyType: "ssh-rsa", publicKey: null, fingerprint: "SHA256:6QQmYi4ppFS4/+zSZ5S4IU+4sa6rwvQ4PbhCtPEBekQ" },
  ],
};

/** The shipped keys of a host on the standard port, or null: those forges serve ssh on port 22. */
export function shippedHostKeys(host: string, port: number): readonly ShippedHostKey[] | null {
  if (port !== 22) return null;
  return Object.hasOwn(SHIPPED_HOST_KEYS, host) ? (SHIPPED_HOST_KEYS[host] ?? null) : null;
}
