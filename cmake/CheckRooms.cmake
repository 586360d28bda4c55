# Fails when a file of node/src/ROOM includes a header of a room it may not
# use (see node/CMakeLists.txt). Run by the build with:
#   ROOM     the room checked
#   ALLOWED  the rooms below it that it may include
#   SRC      node/src (an include "x/y.h" where SRC/x is a folder is checked)
#   FILES    the room's files; STAMP is touched when all pass
cmake_minimum_required(VERSION 3.25)
set(errors "")
foreach(file ${FILES})
  file(STRINGS ${file} lines REGEX "^#include \"")
  foreach(line ${lines})
    string(REGEX REPLACE "^#include \"([^\"]*)\".*" "\\1" header "${line}")
    if(NOT header MATCHES "/")
      string(APPEND errors "\n  ${file}: #include \"${header}\": name the room (\"${ROOM}/${header}\")")
      continue()
    endif()
    string(REGEX REPLACE "/.*" "" first "${header}")
    if(first STREQUAL ROOM OR NOT IS_DIRECTORY "${SRC}/${first}")
      continue()
    endif()
    if(NOT first IN_LIST ALLOWED)
      string(APPEND errors "\n  ${file}: #include \"${header}\": room '${ROOM}' may include only: ${ALLOWED}")
    endif()
  endforeach()
endforeach()
if(errors)
  message(FATAL_ERROR "node/src/${ROOM} includes against the direction of the rooms:${errors}")
endif()
file(TOUCH ${STAMP})
