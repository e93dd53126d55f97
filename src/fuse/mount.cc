#include "src/fuse/mount.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pailfs/log.h"
#include "src/fuse/fuse_ops.h"

namespace pailfs::fuse {

struct FuseMount::Impl {
  MountOptions options;
  SessionContext context;
  fuse_session* session = nullptr;
  bool mounted = false;
  bool signals_installed = false;
};

FuseMount::FuseMount(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FuseMount::~FuseMount() {
  Unmount();
  if (impl_->signals_installed) fuse_remove_signal_handlers(impl_->session);
  if (impl_->session != nullptr) fuse_session_destroy(impl_->session);
}

Result<std::unique_ptr<FuseMount>> FuseMount::Mount(const MountOptions& options) {
  struct stat st;
  if (::stat(options.mountpoint.c_str(), &st) != 0) {
    return Status::FromErrno(errno, "mountpoint " + options.mountpoint + ": " +
                                        std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::FromErrno(ENOTDIR, "mountpoint " + options.mountpoint + " is not a directory");
  }

  std::vector<std::string> argv_s = {"pailfs"};
  std::string o = "-osubtype=pailfs,fsname=" + options.fsname;
  if (options.read_only) o += ",ro";
  if (options.allow_other) o += ",allow_other";
  if (options.default_permissions) o += ",default_permissions";
  argv_s.push_back(o);
  if (options.debug) argv_s.push_back("-d");
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->session = fuse_session_new(&args, LowlevelOps(), sizeof(fuse_lowlevel_ops), &impl->context);
  fuse_opt_free_args(&args);  // libfuse may have grown the list
  if (impl->session == nullptr) return Internal("cannot create the FUSE session (see above)");
  if (fuse_session_mount(impl->session, options.mountpoint.c_str()) != 0) {
    fuse_session_destroy(impl->session);
    impl->session = nullptr;
    return Status::FromErrno(EIO, "cannot mount on " + options.mountpoint +
                                      " (is /dev/fuse available, and allow_other permitted "
                                      "by user_allow_other in /etc/fuse.conf?)");
  }
  impl->mounted = true;
  return std::unique_ptr<FuseMount>(new FuseMount(std::move(impl)));
}

Status FuseMount::Daemonize(bool foreground) {
  if (fuse_daemonize(foreground ? 1 : 0) != 0) return Internal("cannot daemonize");
  return Status::Ok();
}

Result<int> FuseMount::Serve(Filesystem* fs) {
  impl_->context.fs.store(fs);
  if (fuse_set_signal_handlers(impl_->session) != 0) {
    return Internal("cannot install signal handlers");
  }
  impl_->signals_installed = true;
  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(config, static_cast<unsigned>(impl_->options.max_threads));
  fuse_loop_cfg_set_idle_threads(config, 8);
  int rc = fuse_session_loop_mt(impl_->session, config);
  fuse_loop_cfg_destroy(config);
  if (rc == -ECONNABORTED) {
    // The connection was aborted through /sys/fs/fuse/connections/N/abort:
    // the mount is gone, like after an unmount. Shutdown goes on as usual
    // (pending uploads are still flushed).
    PAILFS_LOG(kWarning) << "the kernel connection was aborted (fusectl abort); shutting down";
    return 0;
  }
  if (rc < 0) return Status::FromErrno(-rc, std::string("FUSE loop failed: ") + std::strerror(-rc));
  return rc;
}

void FuseMount::Unmount() {
  if (impl_->mounted && impl_->session != nullptr) {
    fuse_session_unmount(impl_->session);
    impl_->mounted = false;
  }
}

}  // namespace pailfs::fuse
