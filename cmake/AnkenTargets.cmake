# Helpers every CMakeLists.txt in the tree uses, so that warnings, include paths and test
# labels are set in one place.

# Warnings for Anken's own code only (generated code and system headers are exempt).
function(anken_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(ANKEN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()



# anken_library(name SOURCES ... DEPS ...): a static library of our own code.
function(anken_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  anken_warnings(${name})
endfunction()

# anken_executable(name SOURCES ... DEPS ...)
function(anken_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  anken_warnings(${name})
endfunction()

# anken_test(name LABEL unit|integration|e2e SOURCES ... DEPS ...)
# One ctest test per executable. Tests labelled integration or e2e need the PostgreSQL that
# scripts/test starts (ANKEN_TEST_DATABASE_URL); they fail, never skip, without it.
function(anken_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_LABEL MATCHES "^(unit|integration|e2e)$")
    message(FATAL_ERROR "anken_test(${name}): LABEL must be unit, integration or e2e")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  anken_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT})
endfunction()

# The googleapis protos (google/rpc/*) that Debian ships in golang-github-gogo-googleapis-dev.
set(ANKEN_GOOGLEAPIS_DIR "/usr/share/gocode/src/github.com/gogo/googleapis"
    CACHE PATH "Folder holding google/rpc/*.proto")

# anken_proto_library(name PROTOS a.proto ... [GRPC] [DEPS other_proto_libs])
# Generates C++ (and, with GRPC, the service stubs) with protobuf_generate into build/gen,
# keeping the path below proto/ so that includes read "anken/common/v1/date.pb.h". Call it
# from proto/CMakeLists.txt with paths relative to proto/.
function(anken_proto_library name)
  cmake_parse_arguments(ARG "GRPC" "" "PROTOS;DEPS" ${ARGN})
  set(out ${PROJECT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out})
  add_library(${name} STATIC)
  target_sources(${name} PRIVATE ${ARG_PROTOS})
  target_include_directories(${name} SYSTEM PUBLIC ${out})
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf gRPC::grpc++ ${ARG_DEPS})
  set(import_dirs ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/proto ${ANKEN_GOOGLEAPIS_DIR}
      ${Protobuf_INCLUDE_DIRS})
  protobuf_generate(TARGET ${name} LANGUAGE cpp PROTOC_OUT_DIR ${out}
                    IMPORT_DIRS ${import_dirs})
  if(ARG_GRPC)
    protobuf_generate(TARGET ${name} LANGUAGE grpc
                      GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
                      PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
                      PROTOC_OUT_DIR ${out} IMPORT_DIRS ${import_dirs})
  endif()
endfunction()

# google_rpc_proto: google/rpc/{status,error_details,code}.proto from the Debian package.
# protobuf_generate (CMake 3.25) names outputs relative to the current source folder, which
# does not work for files outside the tree, so these few run protoc directly.
function(anken_googleapis_rpc_library name)
  set(out ${PROJECT_BINARY_DIR}/gen)
  set(srcs)
  foreach(base status error_details code)
    set(proto ${ANKEN_GOOGLEAPIS_DIR}/google/rpc/${base}.proto)
    set(cc ${out}/google/rpc/${base}.pb.cc)
    add_custom_command(
      OUTPUT ${cc} ${out}/google/rpc/${base}.pb.h
      COMMAND protobuf::protoc --cpp_out=${out} -I ${ANKEN_GOOGLEAPIS_DIR}
              -I ${Protobuf_INCLUDE_DIRS} ${proto}
      DEPENDS ${proto} protobuf::protoc
      COMMENT "protoc google/rpc/${base}.proto"
      VERBATIM)
    list(APPEND srcs ${cc})
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} SYSTEM PUBLIC ${out})
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf)
endfunction()

# anken_service_binary(name SOURCES ... DEPS ... MIGRATIONS dir): a service executable with
# its migrations copied beside it (where ServiceMain looks for them by default). The copy
# runs on every build, so an edited or removed migration is never stale.
function(anken_service_binary name)
  cmake_parse_arguments(ARG "" "MIGRATIONS" "SOURCES;DEPS" ${ARGN})
  anken_executable(${name} SOURCES ${ARG_SOURCES} DEPS ${ARG_DEPS})
  if(ARG_MIGRATIONS)
    add_custom_target(${name}_migrations
      COMMAND ${CMAKE_COMMAND} -E rm -rf ${CMAKE_CURRENT_BINARY_DIR}/migrations
      COMMAND ${CMAKE_COMMAND} -E copy_directory ${ARG_MIGRATIONS}
              ${CMAKE_CURRENT_BINARY_DIR}/migrations
      VERBATIM)
    add_dependencies(${name} ${name}_migrations)
  endif()
endfunction()
