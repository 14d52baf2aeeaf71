# The Debian package (scripts/package): cpack -G DEB on a release build.
# CPack runs no debhelper, so the maintainer scripts in packaging/debian/
# do what dh_installsystemd would: enable the service on first install
# (without starting it), restart it on upgrade, stop it on removal, and
# forget it on purge.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME etherip)
set(CPACK_PACKAGE_VENDOR "etherip")
set(CPACK_PACKAGE_CONTACT "etherip maintainers <etherip@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "EtherIP (RFC 3378) tunnels: daemon and control tool")
set(CPACK_PACKAGE_DESCRIPTION
    "etheripd bridges Ethernet segments across an IP network with EtherIP\n\
(IP protocol 97), interoperating with OpenBSD, FreeBSD, NetBSD and router\n\
peers; etherip configures it. Each tunnel is a TAP interface.")
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
# Only the files of the default component: the install-time copy of the
# configuration file to /etc (component "config") is the postinst's job
# in a package.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};etherip;Unspecified;/")
include(CPack)
