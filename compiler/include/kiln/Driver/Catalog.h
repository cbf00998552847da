// kiln build --catalog postgres://...: the types of source tables (and of columns) that the
// project's YAML leaves without, read from the upstream PostgreSQL database's catalog, as dbt
// would ask the warehouse.
#pragma once

#include "kiln/Project/Project.h"

#include <string>

namespace kiln::driver {

// A lookup that connects to `url` (a libpq connection string or URI) on first use and reads
// information_schema.columns and the primary key of each table asked for. Types map to
// Kiln's: smallint and integer to integer, real to double precision, character types to text;
// a type Kiln has no counterpart for is an error that names it.
project::CatalogLookup postgresCatalog(const std::string &url);

} // namespace kiln::driver
