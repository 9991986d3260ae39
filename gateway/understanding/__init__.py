"""Query understanding: the stages that turn what a resident typed into the question sent on."""
