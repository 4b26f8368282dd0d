# deploy/grpc/service_config.json must equal kDefaultServiceConfigJson in common/server/client.cc.
file(READ ${SOURCE}/common/server/client.cc code)
string(REGEX MATCH "R\"json\\((.*)\\)json\"" _ "${code}")
string(STRIP "${CMAKE_MATCH_1}" in_code)
file(READ ${SOURCE}/deploy/grpc/service_config.json shipped)
string(STRIP "${shipped}" shipped)
if(NOT in_code STREQUAL shipped)
  message(FATAL_ERROR "deploy/grpc/service_config.json differs from kDefaultServiceConfigJson")
endif()
