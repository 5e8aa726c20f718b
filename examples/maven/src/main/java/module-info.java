/** The example application: a module that reads Isthmus's exported API and nothing else. */
module com.example.quadrants {
    requires dev.isthmus.core;
}
