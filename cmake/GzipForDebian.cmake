# gzip_for_debian(SOURCE OUTPUT): OUTPUT is SOURCE gzipped as Debian ships
# documentation (gzip -9n: the bytes do not depend on the time of the
# build), remade when SOURCE changes and built by default.
find_program(GZIP gzip REQUIRED)
function(gzip_for_debian source output)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${GZIP} -9nc ${source} > ${output}
    DEPENDS ${source}
    COMMENT "Compressing ${source}")
  file(RELATIVE_PATH name ${CMAKE_BINARY_DIR} ${output})
  string(MAKE_C_IDENTIFIER "gzip_${name}" target)
  add_custom_target(${target} ALL DEPENDS ${output})
endfunction()
