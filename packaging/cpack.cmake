# The Debian package (scripts/package): cpack -G DEB on a release build.
# CPack runs no debhelper, so the maintainer scripts in packaging/debian/
# do what dh_installsystemd would: enable the service on first install
# (without starting it), restart it on upgrade, stop it on removal, and
# forget it on purge.
include(GNUInstallDirs)

# Debian's documentation files: the copyright and the changelog (a native
# package's, gzipped), whose first entry must be the version being built.
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/debian/changelog" changelog_top
     LIMIT_COUNT 1)
if(NOT changelog_top MATCHES "^etherip \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog: its first entry is not "
                      "version ${PROJECT_VERSION} (project()): add one")
endif()
include(GzipForDebian)
gzip_for_debian(${CMAKE_CURRENT_LIST_DIR}/debian/changelog
                ${CMAKE_BINARY_DIR}/changelog.gz)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/debian/copyright
              ${CMAKE_BINARY_DIR}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME etherip)
set(CPACK_PACKAGE_VENDOR "etherip")
set(CPACK_PACKAGE_CONTACT "etherip maintainers <etherip@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Ethernet over IP tunnels (EtherIP, RFC 3378): daemon and control tool")
set(CPACK_PACKAGE_DESCRIPTION
    "The daemon, etheripd, bridges Ethernet segments across an IP network\n\
with EtherIP (IP protocol 97), interoperating with OpenBSD, FreeBSD, NetBSD\n\
and router peers; etherip configures it. Each tunnel is a TAP interface.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages, found by dpkg-shlibdeps; `ip netns` is
# how domains are made.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.54)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "iproute2")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_LIST_DIR}/debian/postinst"
    "${CMAKE_CURRENT_LIST_DIR}/debian/prerm"
    "${CMAKE_CURRENT_LIST_DIR}/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Debian ships stripped programs (lintian's unstripped-binary-or-object).
set(CPACK_STRIP_FILES ON)
# Only the files of the default component: the install-time copy of the
# configuration file to /etc (component "config") is the postinst's job
# in a package.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};etherip;Unspecified;/")
include(CPack)
