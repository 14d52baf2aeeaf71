// Replacing a file's contents so that readers, and the file system after a
// crash, see either the old contents or the new ones, never a mix or an
// empty file: for the daemon writing its configuration file back.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace etherip {

// Makes the file at `path` hold exactly `contents`.
//
// `path` is resolved through symbolic links (each link stays a link; the
// file it ends at is replaced). When that file exists it must be a regular
// file, and the new one gets its owner, group and permission bits; when it
// does not exist yet it is created with mode 0600 and the process's owner,
// in a directory that must exist.
//
// How: a temporary file ".NAME.tmp.XXXXXX" next to the target, written in
// full, given the owner and mode, fsync'ed, renamed over the target, then
// the directory is fsync'ed so the rename itself is durable.
//
// Errors name `path` and the failing step, e.g.
// "/etc/etherip/etheripd.conf: write: no space left" (ENOSPC). On a failure
// before the rename the target is untouched and the temporary file removed.
// Only the last step, the directory's fsync, fails after the rename: the
// target then already holds `contents`, but may lose them in a crash.
Status ReplaceFileAtomically(const std::string& path,
                             std::string_view contents);

}  // namespace etherip
